"""The reasons of an advice, in plain Chinese and English, with the numbers behind them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from features.calendar_cn import DayInfo
from features.offices import Office
from serving.advice.deadline import Deadline
from serving.advice.options import HourOption

WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass(frozen=True, slots=True)
class Reason:
    """One sentence of the advice, in both languages."""

    zh: str
    en: str


def _en(date: dt.date) -> str:
    return f"{WEEKDAYS_EN[date.weekday()]} {date.isoformat()}"


def _zh(date: dt.date) -> str:
    return f"{date.isoformat()}（{WEEKDAYS_ZH[date.weekday()]}）"


def _min(value: float) -> str:
    return f"{value:.0f}"


def _pct(value: float | None) -> str:
    return "100" if value is None else f"{100 * value:.0f}"


def deadline_reason(deadline: Deadline) -> Reason:
    """When the document must be applied for."""
    i, last, travel = deadline.issuing, deadline.by_rule, deadline.travel_date
    who_en = {
        "in_province": "For residents of Zhejiang",
        "out_of_province": "For residents of other provinces",
        "expedited": "Expedited (with proof)",
    }
    who_zh = {
        "in_province": "浙江省内居民",
        "out_of_province": "外省居民",
        "expedited": "加急办理（需证明）",
    }
    return Reason(
        zh=f"您 {_zh(travel)} 出行；{who_zh[i.rule]}出证需 {i.days} {i.unit_zh}，"
        f"证件须在出行前一天办好，所以最晚 {_zh(last)} 递交申请。",
        en=f"You travel on {_en(travel)}. {who_en[i.rule]}, issuing takes {i.days} "
        f"{i.unit_en} and the document must be ready the day before travel, so apply by "
        f"{_en(last)} at the latest.",
    )


def moved_deadline_reason(deadline: Deadline, office: Office, closed: list[DayInfo]) -> Reason:
    """The office is closed on the rule's last day: the last day to go is earlier."""
    first, last = closed[0].date, closed[-1].date
    names_en = list(dict.fromkeys(d.holiday_en for d in closed if d.holiday_en))
    names_zh = list(dict.fromkeys(d.holiday_zh for d in closed if d.holiday_zh))
    why_en = f" ({', '.join(names_en)})" if names_en else ""
    why_zh = f"（{'、'.join(names_zh)}）" if names_zh else ""
    span_en = _en(first) if first == last else f"{_en(first)} to {_en(last)}"
    span_zh = _zh(first) if first == last else f"{_zh(first)} 至 {_zh(last)}"
    open_en, open_zh = _en(deadline.last_day_to_apply), _zh(deadline.last_day_to_apply)
    return Reason(
        zh=f"{office.name_zh}{span_zh}不开放{why_zh}，所以在这里最晚 {open_zh} 递交申请。",
        en=f"{office.name_en} is closed {'on' if first == last else 'from'} {span_en}{why_en}, "
        f"so the last day you can apply there is {open_en}.",
    )


def estimated_reason(year_from: int) -> Reason:
    """The holiday schedule is not official yet."""
    return Reason(
        zh=f"{year_from} 年起的法定节假日和调休安排尚未公布，以上日期按估算日历计算，可能有变。",
        en=f"The official holiday schedule from {year_from} on is not published yet: these "
        "dates use an estimated calendar and may change.",
    )


def too_late_reason(deadline: Deadline, first: dt.date) -> Reason:
    """The last day to apply is before the first day one could still go."""
    return Reason(
        zh=f"最晚递交日 {_zh(deadline.by_rule)} 早于最早能去办理的 {_zh(first)}，"
        "按正常出证时限已来不及。",
        en=f"The last day to apply, {_en(deadline.by_rule)}, is before the first "
        f"day you could still go ({_en(first)}): the normal issuing time cannot make it.",
    )


def walk_in_only_reason(office: Office) -> Reason:
    """The office takes no appointments."""
    return Reason(
        zh=f"{office.name_zh}实行“即来即办”，不需要也不能预约，直接取号即可。",
        en=f"{office.name_en} is walk-in only (即来即办): no appointment is needed or taken.",
    )


def appointment_reason(
    office: Office, date: dt.date, lead: float | None, source: str, option: HourOption | None
) -> Reason:
    """When the appointment would be, and its wait on the day."""
    if source == "caller":
        zh = f"您查到的最早预约是 {_zh(date)}"
        en = f"The earliest appointment you found is {_en(date)}"
    else:
        days = _min(lead or 0.0)
        kind_zh, kind_en = ("预计", "predicted") if source == "predicted" else ("假定", "assumed")
        zh = f"{office.name_zh}的预约{kind_zh}要提前约 {days} 天，最早约在 {_zh(date)}"
        en = (
            f"Appointments at {office.name_en} are booked about {days} days ahead "
            f"({kind_en}), so the earliest is about {_en(date)}"
        )
    if option is None:
        return Reason(zh=zh + "。", en=en + ".")
    return Reason(
        zh=zh + f"；当天 {option.hour}:00 时段预约者预计等 {_min(option.p50)} 分钟"
        f"（十人中九人在 {_min(option.p90)} 分钟内叫号）。",
        en=en + f"; at {option.hour}:00 that day appointment holders wait about "
        f"{_min(option.p50)} min (9 in 10 within {_min(option.p90)} min).",
    )


def not_in_time_reason(date: dt.date, deadline: Deadline) -> Reason:
    """The appointment comes after the last day to apply."""
    late = (date - deadline.last_day_to_apply).days
    return Reason(
        zh=f"这比最晚递交日 {_zh(deadline.last_day_to_apply)} 晚 {late} 天，预约来不及。",
        en=f"That is {late} days after the last day to apply "
        f"({_en(deadline.last_day_to_apply)}), so an appointment cannot be in time.",
    )


def _where(office: Office, option: HourOption) -> tuple[str, str]:
    """The office's name with how far it is, in both languages."""
    if not option.distance_km:
        return office.name_zh, office.name_en
    km = f"{option.distance_km:.0f}"
    trip_zh = trip_en = ""
    if option.travel_minutes:
        trip_zh = f"，往返约 {_min(option.travel_minutes)} 分钟"
        trip_en = f", about {_min(option.travel_minutes)} min there and back"
    return (
        f"{office.name_zh}（约 {km} 公里{trip_zh}）",
        f"{office.name_en} (about {km} km{trip_en})",
    )


def walk_in_reason(best: HourOption, office: Office, n_near_best: int, n_days: int) -> Reason:
    """The first walk-in time, how far it is, and how many others are about as good."""
    where_zh, where_en = _where(office, best)
    spread_zh = spread_en = ""
    if n_near_best > 1:
        spread_zh = (
            f"共有 {n_near_best} 个时段（{n_days} 天）差不多一样好，任选其一，"
            "避免大家挤在同一时段。"
        )
        spread_en = (
            f" {n_near_best} hours over {n_days} days are about as good: pick any, "
            "so that not everyone comes at the same hour."
        )
    return Reason(
        zh=f"现场取号：{where_zh} {_zh(best.date)} {best.hour}:00 起预计等 {_min(best.p50)} 分钟"
        f"（十人中九人在 {_min(best.p90)} 分钟内），闭馆前叫到号的把握约 {_pct(best.p_called)}%。"
        + spread_zh,
        en=f"Walking in at {where_en} on {_en(best.date)} from {best.hour}:00, the predicted "
        f"wait is {_min(best.p50)} min (9 in 10 within {_min(best.p90)} min), with a "
        f"{_pct(best.p_called)}% chance of being called before closing." + spread_en,
    )


def own_office_reason(office: Office, own: HourOption, best: HourOption, nearby: bool) -> Reason:
    """The office itself costs much more for walk-ins than the first suggested one."""
    if nearby:
        others_zh, others_en = "附近的窗口", "nearby offices are listed first"
    else:
        km = f"{best.distance_km or 0:.0f}"
        others_zh = f"其他窗口（约 {km} 公里，已计入路上时间）"
        others_en = f"other offices are listed first (about {km} km away, travel included)"
    return Reason(
        zh=f"在{office.name_zh}本身现场取号，最好的时段预计共花约 "
        f"{_min(own.cost_minutes or 0)} 分钟，而上面推荐的时段约 "
        f"{_min(best.cost_minutes or 0)} 分钟，所以先列出{others_zh}。",
        en=f"Walking in at {office.name_en} itself, the best hour costs about "
        f"{_min(own.cost_minutes or 0)} min against {_min(best.cost_minutes or 0)} min at the "
        f"suggested one, counting travel and the chance of a second trip, so {others_en}.",
    )


def no_walk_in_reason(last: dt.date, min_p_called: float) -> Reason:
    """No open hour gives a reasonable chance in time."""
    return Reason(
        zh=f"到 {_zh(last)} 为止，没有哪个开放时段有 {_pct(min_p_called)}% 以上的把握"
        "在闭馆前叫到号。",
        en=f"Up to {_en(last)} no open hour gives at least a {_pct(min_p_called)}% chance of "
        "being called before closing.",
    )


def decision_reason(
    kind: str, short_p90: float, good: HourOption | None, ready: dt.date | None
) -> Reason:
    """The advice itself, in one sentence."""
    ready_zh = f"预计 {_zh(ready)} 出证。" if ready else ""
    ready_en = f" The document would be ready by {_en(ready)}." if ready else ""
    if kind == "urgent_service":
        return Reason(
            zh="建议带上行程证明（如机票、邀请函）到出入境窗口申请“急事急办”加急通道。",
            en="Ask for the urgent service (急事急办) at an exit-entry office, with proof of "
            "your trip (ticket, invitation): the normal ways cannot make your travel date.",
        )
    if kind == "book":
        return Reason(
            zh="建议预约：出入境管理局建议出行日期未定或较远的群众预约办理，预约者当天等候更短。"
            + ready_zh,
            en="Book an appointment: the bureau advises booking when travel is not near, and "
            "appointment holders wait less on the day." + ready_en,
        )
    if good is not None and good.p90 <= short_p90:
        return Reason(
            zh=f"建议直接现场办理：好时段（如 {_zh(good.date)} {good.hour}:00）十人中九人在 "
            f"{_min(good.p90)} 分钟内叫号（不超过 {_min(short_p90)} 分钟），不必预约。" + ready_zh,
            en=f"Walk in: at a good hour (e.g. {_en(good.date)} {good.hour}:00) 9 in 10 are "
            f"called within {_min(good.p90)} min (at most {_min(short_p90)}), so there is no "
            "need to book." + ready_en,
        )
    return Reason(
        zh="建议在上述推荐时段现场取号办理。" + ready_zh,
        en="Walk in at one of the suggested times." + ready_en,
    )
