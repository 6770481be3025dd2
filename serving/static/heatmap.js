// The heatmap: days × open hours, the median wait in each cell, coloured by what the hour
// costs (the API's cost_minutes: the expected wait plus, for walk-ins, a likely second trip);
// hours with a high risk of not being called are marked. A cell chosen by pointer, tap or
// keyboard (arrow keys, Home/End; one tab stop) shows its range and its chance.
import { dateParts, fmtDate, minutes, pick, t } from "./lang.js";

// Upper bounds (minutes) of the colour bins; the last bin is open-ended.
export const BIN_LIMITS = [5, 10, 20, 30, 45, 60, 90];
// Below this chance of being called before closing an hour is marked risky: the advice's
// min_p_called (serving/advice/settings.py; tests/serving/test_page_static.py checks they agree).
export const RISKY_BELOW = 0.8;

const grid = []; // grid[row][col] → the focusable cell element
let active = null; // the cell that holds the tab stop
let detailEl = null;
let hoverPausedUntil = 0; // a highlighted cell's detail survives the scroll that follows it

/** The colour bin (0..7) of a wait in minutes. */
export function binOf(value) {
  const index = BIN_LIMITS.findIndex((limit) => value < limit);
  return index === -1 ? BIN_LIMITS.length : index;
}

/** The legend's swatches, labelled with their ranges. */
export function renderLegend(list) {
  list.replaceChildren();
  BIN_LIMITS.concat([null]).forEach((limit, i) => {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch b${i}`;
    swatch.setAttribute("aria-hidden", "true");
    const low = i === 0 ? 0 : BIN_LIMITS[i - 1];
    item.append(swatch, limit === null ? `≥${low}` : `${low}–${limit}`);
    list.append(item);
  });
}

function rowsOf(day, channel, service) {
  return day.hours.filter((row) => row.channel === channel && row.service === service);
}

function cellDetail(cell) {
  const { date, hour, closedText } = cell.dataset;
  if (closedText) return `${fmtDate(date, true)}: ${closedText}`;
  if (cell.dataset.p50 === undefined) return `${fmtDate(date, true)} ${hour}:00: ${t("not_open_hour")}`;
  const channel = t(`channel_${cell.dataset.channel}`);
  let text = t("cell_detail", {
    date: fmtDate(date, true), hour, channel, p50: minutes(Number(cell.dataset.p50)),
    p10: minutes(Number(cell.dataset.p10)), p90: minutes(Number(cell.dataset.p90)),
  });
  if (cell.dataset.pCalled) {
    text += ` ${t("cell_detail_called", { pct: Math.round(100 * Number(cell.dataset.pCalled)) })}`;
    if (cell.classList.contains("risky")) text += ` ${t("cell_detail_risky")}`;
  }
  return text;
}

function show(cell) {
  if (detailEl) detailEl.textContent = cellDetail(cell);
  for (const other of document.querySelectorAll(".heatmap .shown")) other.classList.remove("shown");
  cell.classList.add("shown");
}

function activate(cell, focus) {
  if (active) active.tabIndex = -1;
  active = cell;
  cell.tabIndex = 0;
  if (focus) cell.focus({ preventScroll: false });
  show(cell);
}

function dataCell(row, hour) {
  const td = document.createElement("td");
  td.dataset.hour = String(hour);
  if (!row || row.p50 === null) {
    td.className = "cell empty";
    td.textContent = "·";
    td.setAttribute("aria-label", `${hour}:00 ${row ? t("no_data") : t("not_open_hour")}`);
    return td;
  }
  td.className = `cell b${binOf(row.cost_minutes ?? row.p50)}`;
  td.textContent = minutes(row.p50);
  td.dataset.channel = row.channel;
  for (const key of ["p10", "p50", "p90", "cost_minutes"]) td.dataset[key] = String(row[key] ?? "");
  if (row.p_called !== null && row.p_called !== undefined) {
    td.dataset.pCalled = String(row.p_called);
    if (row.p_called < RISKY_BELOW) {
      td.classList.add("risky");
      td.setAttribute("aria-label", `${minutes(row.p50)} ${t("risky_hour")}`);
    }
  }
  return td;
}

function dateHeader(day) {
  const th = document.createElement("th");
  th.scope = "row";
  const { day: dayText, weekday } = dateParts(day.date);
  const wd = document.createElement("span");
  wd.className = "wd";
  wd.textContent = weekday + (day.calendar_estimated ? " *" : "");
  th.append(dayText, wd);
  // A make-up working day; or, open with a holiday's name, a public holiday the office's
  // data have not shown it open or closed on: forecast, but it may be closed (the advice
  // never names such a day).
  const name = pick(day, "holiday");
  const unconfirmed = !day.makeup_day && !day.closed && Boolean(name);
  if (day.makeup_day || unconfirmed) {
    const note = document.createElement("span");
    note.className = unconfirmed ? "makeup unconfirmed" : "makeup";
    note.textContent = t(unconfirmed ? "unconfirmed_holiday" : "makeup_day", { name });
    th.append(note);
  }
  return th;
}

/**
 * Draw the heatmap of ``days`` (forecast answers in date order) for one channel/service.
 * Returns the open hours drawn as columns.
 */
export function renderHeatmap({ table, detail, days, channel, service }) {
  detailEl = detail;
  grid.length = 0;
  active = null;
  const hours = [...new Set(days.flatMap((day) => rowsOf(day, channel, service)
    .map((row) => row.hour)))].sort((a, b) => a - b);
  const head = document.createElement("thead");
  const headRow = document.createElement("tr");
  const corner = document.createElement("th");
  corner.scope = "col";
  corner.textContent = t("col_date");
  headRow.append(corner);
  for (const hour of hours) {
    const th = document.createElement("th");
    th.scope = "col";
    const minutesPart = document.createElement("span");
    minutesPart.className = "mm";
    minutesPart.textContent = ":00";
    th.append(String(hour), minutesPart);
    headRow.append(th);
  }
  head.append(headRow);
  const body = document.createElement("tbody");
  for (const day of days) {
    const tr = document.createElement("tr");
    tr.dataset.date = day.date;
    tr.append(dateHeader(day));
    const cells = [];
    const rows = rowsOf(day, channel, service);
    if (day.closed || rows.length === 0) {
      const td = document.createElement("td");
      td.className = "cell closed";
      td.colSpan = Math.max(hours.length, 1);
      const name = pick(day, "holiday");
      td.textContent = day.closed && name && !day.makeup_day
        ? t("closed_holiday", { name }) : t("closed");
      td.dataset.closedText = td.textContent;
      tr.append(td);
      for (let i = 0; i < Math.max(hours.length, 1); i += 1) cells.push(td);
    } else {
      const byHour = new Map(rows.map((row) => [row.hour, row]));
      for (const hour of hours) {
        const td = dataCell(byHour.get(hour), hour);
        tr.append(td);
        cells.push(td);
      }
    }
    for (const td of cells) {
      td.dataset.date = day.date;
      td.tabIndex = -1;
    }
    grid.push(cells);
    body.append(tr);
  }
  table.replaceChildren(head, body);
  const first = grid.flat().find((cell) => !cell.classList.contains("closed")) || grid[0]?.[0];
  if (first) {
    active = first;
    first.tabIndex = 0;
  }
  if (detail) detail.textContent = t("cell_detail_hint");
  return hours;
}

function position(cell) {
  for (let r = 0; r < grid.length; r += 1) {
    const c = grid[r].indexOf(cell);
    if (c !== -1) return [r, c];
  }
  return null;
}

/** Wire pointer and keyboard handling once; the table's content is redrawn freely. */
export function wireHeatmap(table) {
  const cellOf = (event) => event.target.closest?.("td.cell");
  table.addEventListener("mouseover", (event) => {
    const cell = cellOf(event);
    if (cell && performance.now() > hoverPausedUntil) show(cell);
  });
  table.addEventListener("mouseleave", () => {
    if (active) show(active);
  });
  table.addEventListener("click", (event) => {
    const cell = cellOf(event);
    if (cell) activate(cell, true);
  });
  table.addEventListener("focusin", (event) => {
    const cell = cellOf(event);
    if (cell && cell !== active) activate(cell, false);
    else if (cell) show(cell);
  });
  table.addEventListener("keydown", (event) => {
    const cell = cellOf(event);
    const at = cell && position(cell);
    if (!at) return;
    let [r, c] = at;
    const moves = {
      ArrowUp: () => { r = Math.max(0, r - 1); },
      ArrowDown: () => { r = Math.min(grid.length - 1, r + 1); },
      ArrowLeft: () => {
        while (c > 0 && grid[r][c - 1] === cell) c -= 1;
        c = Math.max(0, c - 1);
      },
      ArrowRight: () => {
        while (c < grid[r].length - 1 && grid[r][c + 1] === cell) c += 1;
        c = Math.min(grid[r].length - 1, c + 1);
      },
      Home: () => { c = 0; },
      End: () => { c = grid[r].length - 1; },
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    moves[event.key]();
    activate(grid[r][c], true);
  });
}

/** Focus, scroll to and highlight the cell of ``date`` and ``hour``; false when absent. */
export function highlightCell(table, date, hour) {
  const row = table.querySelector(`tr[data-date="${date}"]`);
  if (!row) return false;
  const cell = row.querySelector(`td[data-hour="${hour}"]`) || row.querySelector("td.cell");
  if (!cell) return false;
  for (const old of table.querySelectorAll(".target")) old.classList.remove("target");
  cell.classList.add("target");
  hoverPausedUntil = performance.now() + 1500;
  activate(cell, true);
  const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  cell.scrollIntoView({ block: "center", inline: "center", behavior: still ? "auto" : "smooth" });
  return true;
}
