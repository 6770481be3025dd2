// The page language (zh or en), its texts, and date formatting. Dates are ISO strings
// (YYYY-MM-DD) of the office's calendar: no browser time zone is ever applied to them.
import { STRINGS } from "./i18n.js";

const STORE_KEY = "waitcast.lang";
const listeners = [];

function stored() {
  try {
    return window.localStorage.getItem(STORE_KEY);
  } catch {
    return null; // storage disabled: fall back to the browser's preference
  }
}

function preferred() {
  const choice = stored();
  if (choice === "zh" || choice === "en") return choice;
  const langs = navigator.languages && navigator.languages.length
    ? navigator.languages : [navigator.language || "en"];
  for (const item of langs) {
    const code = String(item).toLowerCase();
    if (code.startsWith("zh")) return "zh";
    if (code.startsWith("en")) return "en";
  }
  return "en";
}

let current = preferred();

/** The page language: "zh" or "en". */
export function lang() {
  return current;
}

/** The text of ``key`` in the page language, with ``{name}`` placeholders filled. */
export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  if (typeof text !== "string") return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** ``obj[base + "_zh"]`` or ``obj[base + "_en"]``, whichever the page language is. */
export function pick(obj, base) {
  if (!obj) return "";
  return obj[`${base}_${current}`] || obj[`${base}_en`] || obj[`${base}_zh`] || "";
}

/** Switch the language, remember it, and re-render. */
export function setLang(code) {
  current = code === "zh" ? "zh" : "en";
  try {
    window.localStorage.setItem(STORE_KEY, current);
  } catch {
    // not remembered: the page still switches
  }
  applyStatic();
  for (const listener of listeners) listener(current);
}

/** Call ``listener(lang)`` after every switch. */
export function onLangChange(listener) {
  listeners.push(listener);
}

/** Fill every ``[data-i18n]`` element's text and ``[data-i18n-LABEL]`` attributes. */
export function applyStatic(root = document) {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
}

function parts(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return { y, m, d, wd: new Date(Date.UTC(y, m - 1, d)).getUTCDay() };
}

/** The ISO date ``days`` after ``iso``. */
export function addDays(iso, days) {
  const { y, m, d } = parts(iso);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Whole days from ``a`` to ``b`` (ISO dates). */
export function daysBetween(a, b) {
  const pa = parts(a);
  const pb = parts(b);
  return Math.round((Date.UTC(pb.y, pb.m - 1, pb.d) - Date.UTC(pa.y, pa.m - 1, pa.d)) / 86400000);
}

/** Weekday of an ISO date, 0 = Sunday. */
export function weekday(iso) {
  return parts(iso).wd;
}

/** A date in the page language: short ("Mon 28 Dec") or long (with the year). */
export function fmtDate(iso, long = false) {
  const { y, m, d, wd } = parts(iso);
  return t(long ? "date_long" : "date_short", {
    y, d, mon: t("months")[m - 1], wd: t("weekdays")[wd],
  });
}

/** A date's day and month, and its weekday, apart (the heatmap's row labels). */
export function dateParts(iso) {
  const { d, m, wd } = parts(iso);
  return { day: t("date_day", { d, mon: t("months")[m - 1] }), weekday: t("weekdays")[wd] };
}

/** "YYYY-MM-DDTHH:MM…" (office time) → date and HH:MM in the page language. */
export function fmtDateTime(stamp) {
  return `${fmtDate(stamp.slice(0, 10))} ${stamp.slice(11, 16)}`;
}

/** Minutes as a whole number (the heatmap's and the cards' rounding). */
export function minutes(value) {
  return value === null || value === undefined ? "–" : String(Math.round(value));
}
