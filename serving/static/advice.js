// The advice form: POST /v1/advice, then the answer, its reasons (in the page language) and
// the suggested times, each a button that shows its cell in the heatmap.
import { api, errorText } from "./api.js";
import { fmtDate, lang, minutes, pick, t } from "./lang.js";

let lastAnswer = null;
let lastError = null;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function suggestionButton(text, onClick) {
  const button = el("button", "suggestion");
  button.type = "button";
  const label = el("span", "suggestion-text", text);
  const hint = el("span", "suggestion-hint", t("show_in_heatmap"));
  button.append(label, hint);
  button.addEventListener("click", onClick);
  return button;
}

function facts(answer) {
  const list = el("ul", "facts");
  if (answer.last_day_to_apply) {
    list.append(el("li", "", t("last_day_to_apply", { date: fmtDate(answer.last_day_to_apply, true) })));
  }
  if (answer.document_ready) {
    list.append(el("li", "", t("document_ready", { date: fmtDate(answer.document_ready, true) })));
  }
  return list;
}

function walkInList(answer, onShow, title) {
  const box = el("div", "suggestions suggestions-walk_in");
  box.append(el("h4", "", title));
  const list = el("ul", "suggestion-list");
  for (const option of answer.walk_in) {
    let text = t("suggestion", {
      office: pick(option, "office_name"), date: fmtDate(option.date), hour: option.hour,
      p50: minutes(option.p50),
    });
    if (option.distance_km) text += ` · ${t("km", { km: option.distance_km.toFixed(option.distance_km < 10 ? 1 : 0) })}`;
    const item = el("li");
    item.append(suggestionButton(text, () => onShow(option.office_id, option.date, option.hour,
      "walk_in")));
    list.append(item);
  }
  box.append(list);
  return box;
}

function appointmentBox(answer, onShow, title) {
  const option = answer.appointment;
  const box = el("div", "suggestions suggestions-appointment");
  box.append(el("h4", "", title));
  const wait = option.wait;
  let text = t("suggestion_appointment", { office: pick(answer, "office_name"),
    date: fmtDate(option.date) });
  if (wait) {
    text = t("suggestion", { office: pick(answer, "office_name"), date: fmtDate(option.date),
      hour: wait.hour, p50: minutes(wait.p50) });
  }
  if (!option.in_time) text += ` (${t("in_time_no")})`;
  const list = el("ul", "suggestion-list");
  const item = el("li");
  item.append(suggestionButton(text, () => onShow(answer.office_id, option.date,
    wait ? wait.hour : null, "appointment")));
  list.append(item);
  box.append(list);
  return box;
}

/** Draw the last answer (or error) in the page language. */
export function renderAdvice(result, onShow) {
  result.replaceChildren();
  if (lastError) {
    result.append(el("p", "error-inline", errorText(lastError)));
    result.hidden = false;
    return;
  }
  if (!lastAnswer) {
    result.hidden = true;
    return;
  }
  const answer = lastAnswer;
  result.hidden = false;
  const head = el("h3", `verdict verdict-${answer.advice}`);
  head.append(el("span", "verdict-office", t("advice_for", { office: pick(answer, "office_name") })),
    " ", el("strong", "", t(`advice_${answer.advice}`)));
  result.append(head, facts(answer));
  // The headline's choice first, the other way under its own heading.
  const walk = answer.walk_in.length ? walkInList : null;
  const book = answer.appointment ? appointmentBox : null;
  if (answer.advice === "book" && book) {
    result.append(book(answer, onShow, t("your_appointment")));
  } else if (answer.advice === "walk_in" && walk) {
    result.append(walk(answer, onShow, t("suggested_walk_in")));
  }
  const others = [];
  if (walk && answer.advice !== "walk_in") others.push(walk(answer, onShow, t("alternative_walk_in")));
  if (book && answer.advice !== "book") others.push(book(answer, onShow, t("alternative_appointment")));
  if (others.length) {
    const box = el("section", "alternatives");
    box.append(el("h4", "alternatives-heading", t("alternatives")), ...others);
    result.append(box);
  }
  result.append(el("h4", "", t("reasons")));
  const reasons = el("ul", "reasons");
  for (const reason of answer.reasons) reasons.append(el("li", "", reason[lang()] || reason.en));
  result.append(reasons);
}

/**
 * Wire the form: ``officeId()`` names the chosen office; ``near()`` gives "LAT,LON" when the
 * browser shared its location (else null: the trip starts at the office); ``onShow`` opens a
 * heatmap cell.
 */
export function wireAdvice(form, result, officeId, onShow, near = () => null) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = {
      office_id: officeId(),
      residency: data.get("residency") || "in_province",
      expedited: data.get("expedited") === "on",
    };
    if (data.get("travel_date")) body.travel_date = data.get("travel_date");
    if (near()) body.near = near();
    const earliest = form.elements.earliest_appointment;
    if (!earliest.closest("[hidden]") && earliest.value) body.earliest_appointment = earliest.value;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    result.hidden = false;
    result.setAttribute("aria-busy", "true");
    result.replaceChildren(el("p", "muted", t("advice_busy")));
    try {
      lastAnswer = await api("/v1/advice", body);
      lastError = null;
    } catch (error) {
      lastAnswer = null;
      lastError = error;
    } finally {
      button.disabled = false;
      result.removeAttribute("aria-busy");
    }
    renderAdvice(result, onShow);
    result.focus();
  });
}
