// "If you take a number now": live from the office's posted queue, else this hour's forecast,
// saying which; closed, with the next opening.
import { fmtDateTime, minutes, t } from "./lang.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function channelCard(channel) {
  const card = el("div", "now-channel");
  const service = channel.service && channel.service !== "general" ? ` · ${channel.service}` : "";
  card.append(
    el("h3", "", t(`channel_${channel.channel}`) + service),
    el("p", "now-value", t("minutes", { n: minutes(channel.p50) })),
    el("p", "muted", t("range", { p10: minutes(channel.p10), p90: minutes(channel.p90) })),
  );
  if (channel.people_ahead !== null && channel.people_ahead !== undefined) {
    card.append(el("p", "muted small", t("people_ahead", { n: channel.people_ahead })));
  }
  if (channel.p_called !== null && channel.p_called !== undefined) {
    card.append(el("p", "muted small",
      t("p_called", { pct: Math.round(100 * channel.p_called) })));
  }
  return card;
}

/** Draw the answer of GET /v1/offices/{id}/now into ``box`` (empty when there is none). */
export function drawNow(box, now) {
  if (!now) {
    box.replaceChildren();
    return;
  }
  const live = now.source === "live" && now.live;
  const badge = el("p", `source source-${now.source}`);
  badge.append(
    el("strong", "", live ? t("now_live") : t("now_forecast")), " ",
    el("span", "", live
      ? t("now_live_detail", { age: Math.round(now.live.age_minutes),
        windows: now.live.windows_open })
      : t("now_forecast_detail")),
  );
  const nodes = [badge];
  if (now.closed) {
    const next = now.next_opening
      ? ` ${t("now_next_opening", { when: fmtDateTime(now.next_opening) })}` : "";
    nodes.push(el("p", "now-closed", t("now_closed") + next));
  } else {
    const cards = el("div", "now-channels");
    cards.append(...now.channels.map(channelCard));
    nodes.push(cards);
  }
  nodes.push(el("p", "muted small", t("now_as_of", { time: fmtDateTime(now.as_of) })));
  box.replaceChildren(...nodes);
}
