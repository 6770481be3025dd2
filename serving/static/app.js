// The citizens' page: choose an office, see the wait now and the next days' heatmap, and ask
// whether to book. Plain ES modules, no build step; every text comes from i18n.js.
import { renderAdvice, wireAdvice } from "./advice.js";
import { api, ApiError, errorText } from "./api.js";
import { highlightCell, renderHeatmap, renderLegend, wireHeatmap } from "./heatmap.js";
import {
  addDays, applyStatic, daysBetween, lang, onLangChange, pick, setLang, t, weekday,
} from "./lang.js";
import { drawNow } from "./now.js";

const DEFAULT_DAYS = 14;
const NOW_REFRESH_MS = 60_000; // "now" is asked again every minute while the page is seen
const MAX_DAYS = 60; // the heatmap grows up to this to show a suggested date
const WEEKDAY_KEYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const $ = (id) => document.getElementById(id);

const state = {
  offices: [],
  modelVersion: null,
  distances: null, // office id → km, once the browser shares its location
  position: null, // "LAT,LON" once the browser shares its location (the advice's start)
  userChose: false,
  officeId: null,
  today: null, // the office's today, from GET …/now (the server's clock)
  now: null,
  days: [], // forecast answers drawn in the heatmap
  dayCount: DEFAULT_DAYS,
  channel: "walk_in",
  service: null,
  locateKey: "",
  load: 0, // bumped on every office load, so late answers of an old one are dropped
};
const forecasts = new Map(); // "office|date" → Promise of the forecast answer
let retry = null;

function office(id = state.officeId) {
  return state.offices.find((o) => o.office_id === id) || null;
}

function showError(error, again) {
  retry = again;
  $("error-text").textContent = errorText(error);
  $("error-retry").hidden = !again;
  $("error").hidden = false;
  state.error = error;
}

function clearError() {
  $("error").hidden = true;
  state.error = null;
}

// ---- offices ---------------------------------------------------------------------------

function officeLabel(item) {
  let text = `${pick(item, "district")} · ${pick(item, "name")}`;
  const km = state.distances?.get(item.office_id);
  if (km !== undefined) text += ` · ${t("km", { km: km.toFixed(km < 10 ? 1 : 0) })}`;
  if (!item.forecast_available) text += ` (${t("office_no_forecast")})`;
  return text;
}

function renderOfficeList() {
  const select = $("office");
  const list = [...state.offices];
  if (state.distances) {
    list.sort((a, b) => (state.distances.get(a.office_id) ?? 1e9) - (state.distances.get(b.office_id) ?? 1e9));
  }
  select.replaceChildren(...list.map((item) => {
    const option = new Option(officeLabel(item), item.office_id);
    option.disabled = !item.forecast_available;
    return option;
  }));
  if (state.officeId) select.value = state.officeId;
}

function sessionsText(item, date, day) {
  const key = day?.makeup_day ? "fri" : WEEKDAY_KEYS[weekday(date)];
  return (item.sessions[key] || []).map((s) => `${s.open}–${s.close}`).join(", ");
}

function renderChannelSwitch() {
  const dual = Boolean(office()?.channels.includes("appointment"));
  $("channel-switch").hidden = !dual;
  if (!dual) state.channel = "walk_in";
  for (const radio of document.querySelectorAll("input[name=channel]")) {
    radio.checked = radio.value === state.channel;
  }
}

function renderOfficeInfo() {
  renderChannelSwitch();
  const item = office();
  const info = $("office-info");
  if (!item) {
    info.textContent = "";
    return;
  }
  const parts = [t(`mode_${item.mode}`)];
  if (item.windows) parts.push(t("windows", { n: item.windows }));
  const today = state.days.find((day) => day.date === state.today);
  if (state.today && today?.closed) {
    const name = pick(today, "holiday");
    parts.push(name ? `${t("closed_today")} (${name})` : t("closed_today"));
  } else if (state.today) {
    const hours = sessionsText(item, state.today, today);
    parts.push(hours ? t("hours_today", { hours }) : t("closed_today"));
  }
  info.textContent = parts.join(" · ");
  $("earliest-field").hidden = !item.channels.includes("appointment");
}

async function loadOffices() {
  clearError();
  let answer;
  try {
    answer = await api("/v1/offices");
  } catch (error) {
    showError(error, loadOffices);
    return;
  }
  state.offices = answer.offices || [];
  state.modelVersion = answer.model_version;
  renderFooter();
  renderOfficeList();
  const usable = state.offices.filter((o) => o.forecast_available);
  if (!usable.length) {
    showError(new ApiError("http", 503, "no_model"), loadOffices);
    return;
  }
  const wanted = new URLSearchParams(location.hash.slice(1)).get("office");
  const fromHash = usable.find((o) => o.office_id === wanted);
  state.userChose = Boolean(fromHash);
  await selectOffice((fromHash || usable[0]).office_id);
  autoLocate();
}

// ---- location ----------------------------------------------------------------------------

function haversineKm(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const h = Math.sin(((lat2 - lat1) * rad) / 2) ** 2
    + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function setLocateStatus(key) {
  state.locateKey = key;
  $("locate-status").textContent = key ? t(key) : "";
}

function locate() {
  if (!navigator.geolocation) {
    setLocateStatus("locate_unsupported");
    return;
  }
  setLocateStatus("locate_busy");
  navigator.geolocation.getCurrentPosition((position) => {
    const { latitude, longitude } = position.coords;
    state.position = `${latitude.toFixed(5)},${longitude.toFixed(5)}`;
    state.distances = new Map(state.offices.filter((o) => o.lat !== null && o.lon !== null)
      .map((o) => [o.office_id, haversineKm(latitude, longitude, o.lat, o.lon)]));
    setLocateStatus("locate_done");
    renderOfficeList();
    const nearest = [...state.offices].filter((o) => o.forecast_available && state.distances.has(o.office_id))
      .sort((a, b) => state.distances.get(a.office_id) - state.distances.get(b.office_id))[0];
    if (nearest && !state.userChose && nearest.office_id !== state.officeId) selectOffice(nearest.office_id);
  }, () => setLocateStatus("locate_denied"), { timeout: 10000, maximumAge: 600000 });
}

async function autoLocate() {
  // Only when the browser already shares the location: never prompt on load.
  try {
    const status = await navigator.permissions?.query({ name: "geolocation" });
    if (status && status.state === "granted") locate();
  } catch {
    // no Permissions API: the button still works
  }
}

// ---- heatmap -------------------------------------------------------------------------------

function forecast(officeId, date) {
  const key = `${officeId}|${date}`;
  if (!forecasts.has(key)) {
    const request = api(`/v1/offices/${encodeURIComponent(officeId)}/forecast?date=${date}`);
    request.catch(() => forecasts.delete(key));
    forecasts.set(key, request);
  }
  return forecasts.get(key);
}

function renderHeatmapSection() {
  $("heatmap-title").textContent = t("heatmap_heading", { days: state.dayCount });
  renderChannelSwitch();
  const services = [...new Set(state.days.flatMap((d) => d.hours.map((h) => h.service)))].sort();
  if (!services.includes(state.service)) {
    state.service = services.includes("general") ? "general" : services[0] ?? null;
  }
  $("service-box").hidden = services.length < 2;
  $("service").replaceChildren(...services.map((s) => new Option(s, s, false, s === state.service)));
  renderHeatmap({ table: $("heatmap"), detail: $("cell-detail"), days: state.days,
    channel: state.channel, service: state.service });
  $("heatmap").dataset.office = state.officeId;
  $("estimated-note").hidden = !state.days.some((d) => d.calendar_estimated);
}

async function loadHeatmap(load) {
  const officeId = state.officeId;
  const dates = Array.from({ length: state.dayCount }, (_, i) => addDays(state.today, i));
  $("heatmap").setAttribute("aria-busy", "true");
  $("cell-detail").textContent = t("loading");
  try {
    const days = await Promise.all(dates.map((date) => forecast(officeId, date)));
    if (load !== state.load) return false;
    state.days = days;
  } catch (error) {
    if (load === state.load) showError(error, () => selectOffice(officeId));
    return false;
  } finally {
    $("heatmap").removeAttribute("aria-busy");
  }
  renderHeatmapSection();
  renderOfficeInfo();
  return true;
}

async function selectOffice(officeId) {
  const load = ++state.load;
  clearError();
  state.officeId = officeId;
  state.dayCount = DEFAULT_DAYS;
  state.days = [];
  $("office").value = officeId;
  history.replaceState(null, "", `#office=${encodeURIComponent(officeId)}`);
  renderOfficeInfo();
  try {
    state.now = await api(`/v1/offices/${encodeURIComponent(officeId)}/now`);
  } catch (error) {
    if (load === state.load) {
      state.now = null;
      renderNow();
      showError(error, () => selectOffice(officeId));
    }
    return false;
  }
  if (load !== state.load) return false;
  state.today = state.now.as_of.slice(0, 10);
  for (const input of [$("travel-date"), $("earliest")]) input.min = state.today;
  renderNow();
  return loadHeatmap(load);
}

async function refreshNow() {
  const officeId = state.officeId;
  if (!officeId || document.visibilityState !== "visible" || state.error) return;
  try {
    const now = await api(`/v1/offices/${encodeURIComponent(officeId)}/now`);
    if (officeId === state.officeId) {
      state.now = now;
      renderNow();
    }
  } catch {
    // keep the last answer: it says when it was made
  }
}

/** Show one suggested time: switch office, channel and days as needed, then the cell. */
async function showCell(officeId, date, hour, channel) {
  if (officeId !== state.officeId) {
    state.userChose = true;
    if (!(await selectOffice(officeId))) return;
  }
  const needed = Math.min(MAX_DAYS, daysBetween(state.today, date) + 1);
  state.channel = channel;
  if (needed > state.dayCount) {
    state.dayCount = needed;
    if (!(await loadHeatmap(state.load))) return;
  } else {
    renderHeatmapSection();
  }
  highlightCell($("heatmap"), date, hour ?? "");
}

// ---- page ----------------------------------------------------------------------------------

function renderNow() {
  drawNow($("now"), state.now);
}

function renderFooter() {
  $("model-version").textContent = state.modelVersion
    ? t("footer_model", { version: state.modelVersion }) : "";
}

function renderAll() {
  renderOfficeList();
  renderOfficeInfo();
  renderNow();
  if (state.days.length) renderHeatmapSection();
  else $("heatmap-title").textContent = t("heatmap_heading", { days: state.dayCount });
  renderAdvice($("advice-result"), showCell);
  renderFooter();
  setLocateStatus(state.locateKey);
  if (state.error) $("error-text").textContent = errorText(state.error);
}

function init() {
  applyStatic();
  renderLegend($("legend"));
  wireHeatmap($("heatmap"));
  $("heatmap-title").textContent = t("heatmap_heading", { days: state.dayCount });
  $("lang-switch").addEventListener("click", () => setLang(lang() === "zh" ? "en" : "zh"));
  onLangChange(() => {
    $("lang-switch").lang = lang() === "zh" ? "en" : "zh";
    renderAll();
  });
  $("lang-switch").lang = lang() === "zh" ? "en" : "zh";
  $("error-retry").addEventListener("click", () => retry && retry());
  $("office").addEventListener("change", (event) => {
    state.userChose = true;
    selectOffice(event.target.value);
  });
  $("locate").addEventListener("click", locate);
  for (const radio of document.querySelectorAll("input[name=channel]")) {
    radio.addEventListener("change", () => {
      state.channel = radio.value;
      renderHeatmapSection();
    });
  }
  $("service").addEventListener("change", (event) => {
    state.service = event.target.value;
    renderHeatmapSection();
  });
  wireAdvice($("advice-form"), $("advice-result"), () => state.officeId, showCell,
    () => state.position);
  window.setInterval(refreshNow, NOW_REFRESH_MS);
  loadOffices();
}

init();
