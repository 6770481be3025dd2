// The HTTP API client: JSON in and out, every failure as an ApiError with a kind the page
// can explain (network, no model, unknown office, bad input, other HTTP, unreadable answer).
import { t } from "./lang.js";

// 503 codes that mean "no usable model is loaded".
const MODEL_CODES = new Set(["no_model", "model_not_found", "model_integrity",
  "registry_unavailable", "reload_failed"]);

/** A failed API call. ``kind``: network | http | bad_answer. */
export class ApiError extends Error {
  constructor(kind, status = 0, code = "", detail = "") {
    super(`${kind} ${status} ${code} ${detail}`.trim());
    this.kind = kind;
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/** GET (or POST with ``body``) ``path``; resolves to the parsed JSON, rejects with ApiError. */
export async function api(path, body = undefined) {
  const init = { headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError("network");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    if (response.ok) throw new ApiError("bad_answer", response.status);
  }
  if (!response.ok) {
    const code = data && typeof data.error === "string" ? data.error : "";
    const detail = data && typeof data.message === "string" ? data.message : "";
    throw new ApiError("http", response.status, code, detail);
  }
  if (data === null || typeof data !== "object") throw new ApiError("bad_answer", response.status);
  return data;
}

/** The message for a failure, in the page language. */
export function errorText(error) {
  if (!(error instanceof ApiError)) return t("error_bad_answer");
  if (error.kind === "network") return t("error_network");
  if (error.kind === "bad_answer") return t("error_bad_answer");
  if (error.status === 503 && MODEL_CODES.has(error.code)) return t("error_no_model");
  if (error.status >= 500) return t("error_unavailable");
  if (error.code === "unknown_office") return t("error_unknown_office");
  if (error.status === 422) return t("error_invalid", { detail: error.detail || error.code });
  return t("error_generic", { status: error.status });
}
