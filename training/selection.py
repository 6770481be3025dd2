"""Choose, per queue, how much of the model to serve: never worse than the baseline.

Input: the backtest's held-out hours, with the model's, the historical mean's and the
shrunk mean's p10/p50/p90 side by side (:func:`wide_hours`), and the individual outcomes
of those hours.

1. For every model share ``w`` in :data:`models.blend.WEIGHTS` the p50 error of the blend
   is computed on every held-out hour.
2. Each channel gets the share with the lowest mean error over all its hours (the pooled
   choice) when it beats the historical mean by more than one standard error of their
   daily difference *and* is not worse than it on the latest fold (the one nearest the
   forecast: a model that has stopped winning is not served on its older record), else
   the historical mean. A queue with at least ``min_hours`` held-out hours gets its own
   best share, but only when it beats the pooled one by more standard errors than
   chance gives any of the channel's queues (:func:`queue_z`: at least two, 3.5 among
   188) and on the latest fold — one of hundreds of queues, a handful of lucky hours or
   days does not move it.
   Then, per channel, the mean where it serves alone (the queues left at share 0) is
   the one with its cells shrunk toward the weekday-pooled hour, unless on those queues'
   hours it lost the latest fold or the plain mean beats it by the channel's evidence
   (:func:`shrunk_channels`). The shares are chosen against the plain mean (judged
   against a better mean, fewer blends win, and the shares are chosen on noisy hours);
   at those shares a channel's blends then mix the model with the shrunk mean, unless
   the plain partner beats it by the channel's evidence, overall or on the latest fold
   (:func:`partner_channels`).
3. The p10–p90 range of the result is calibrated by split-conformal offsets on the
   outcomes of the latest fold, per channel and share.
4. The choice is scored honestly by leave-one-fold-out: each backtest fold is served with
   the choice made on the other folds (with a single fold, on the other days of parity).
   A channel whose served error is still above the historical mean's falls back to the
   historical mean entirely, and the reason is kept.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from statistics import NormalDist

import numpy as np
import pandas as pd

from features import schema as s
from features.spec import ORIGIN
from models.blend import POOLED, WEIGHTS, Blend
from models.calibration import MIN_OUTCOMES, conformal_offsets

MIN_HOURS = 60  # a queue with fewer held-out hours takes its channel's pooled choice
# Standard errors of evidence: a channel's choice is one test; each of a channel's
# queues leaving it is one of hundreds, so a queue needs more (by chance alone about
# one queue in six beats its channel by one standard error, one in forty by two).
CHANNEL_Z, QUEUE_Z = 1.0, 2.0
QUEUE_FAMILY_MISS = 0.05  # ... and all of a channel's queues together (see queue_z)
KEYS = [*s.QUEUE_KEYS, s.DATE, s.HOUR]
MODEL_Q = ("m_p10", "m_p50", "m_p90")
BASE_Q = ("b_p10", "b_p50", "b_p90")
SHRUNK_Q = ("s_p10", "s_p50", "s_p90")
FOLD = "_fold"


def wide_hours(
    hours: pd.DataFrame, model: str, baseline: str, estimator: str, shrunk: str | None = None
) -> pd.DataFrame:
    """One row per held-out hour: keys, origin, actual p50, the model's, the baseline's and
    the shrunk baseline's quantiles (the baseline's where ``shrunk`` has no hours)."""
    cols = [s.P10, s.P50, s.P90]
    m = hours[hours[estimator] == model]
    b = hours[hours[estimator] == baseline][[*KEYS, ORIGIN, *cols]]
    wide = m[[*KEYS, ORIGIN, s.WAIT_P50, *cols]].rename(
        columns=dict(zip(cols, MODEL_Q, strict=True))
    )
    wide = wide.merge(b.rename(columns=dict(zip(cols, BASE_Q, strict=True))), on=[*KEYS, ORIGIN])
    shrunk_rows = hours[hours[estimator] == shrunk][[*KEYS, ORIGIN, *cols]]
    if shrunk is None or shrunk_rows.empty:
        return wide.assign(**{q: wide[b_q] for q, b_q in zip(SHRUNK_Q, BASE_Q, strict=True)})
    named = shrunk_rows.rename(columns=dict(zip(cols, SHRUNK_Q, strict=True)))
    wide = wide.merge(named, on=[*KEYS, ORIGIN], how="left")
    return wide.assign(
        **{q: wide[q].fillna(wide[b_q]) for q, b_q in zip(SHRUNK_Q, BASE_Q, strict=True)}
    )


def mixed(wide: pd.DataFrame, weight: np.ndarray, blend: Blend) -> np.ndarray:
    """What ``blend`` serves on the hours of ``wide`` with these model shares (uncalibrated)."""
    return blend.mix(
        wide[s.CHANNEL].astype(str).to_numpy(),
        weight,
        wide[list(MODEL_Q)].to_numpy(float),
        wide[list(BASE_Q)].to_numpy(float),
        wide[list(SHRUNK_Q)].to_numpy(float) if SHRUNK_Q[0] in wide else None,
    )


def _errors(wide: pd.DataFrame) -> pd.DataFrame:
    """|p50 − actual| of every share on every hour (columns are the shares)."""
    m = wide["m_p50"].to_numpy(float)
    b = wide["b_p50"].to_numpy(float)
    actual = wide[s.WAIT_P50].to_numpy(float)
    return pd.DataFrame(
        {w: np.abs(w * m + (1 - w) * b - actual) for w in WEIGHTS}, index=wide.index
    )


def choose_weights(wide: pd.DataFrame, min_hours: int = MIN_HOURS, partner: bool = True) -> Blend:
    """Per-queue model shares (no offsets yet) from held-out hours; with ``partner``, the
    channels whose blends take the shrunk mean as partner (:func:`partner_channels`)."""
    errors = _errors(wide)
    channel = wide[s.CHANNEL].astype(str).to_numpy()
    pooled = {POOLED: _evident_share(errors, wide[[s.DATE, ORIGIN]])}
    for name in np.unique(channel):
        mine = channel == name
        pooled[str(name)] = _evident_share(errors[mine], wide.loc[mine, [s.DATE, ORIGIN]])
    rows = []
    queue = wide[list(s.QUEUE_KEYS)].astype(str)
    groups = queue.groupby(list(s.QUEUE_KEYS)).groups
    judged = Counter(key[1] for key, index in groups.items() if len(index) >= min_hours)
    for key, index in groups.items():
        own = errors.loc[index]
        base = pooled[str(key[1])]
        weight = base
        if len(own) >= min_hours:
            z = queue_z(judged[key[1]])
            weight = _evident_share(own, wide.loc[index, [s.DATE, ORIGIN]], base, z)
        rows.append((*key, weight))
    weights = pd.DataFrame(rows, columns=[*s.QUEUE_KEYS, "weight"])
    blend = Blend(weights=weights, pooled=pooled)
    partners = partner_channels(blend, wide) if partner else []
    return dataclasses.replace(blend, shrunk=shrunk_channels(blend, wide), partner=partners)


def shrunk_channels(blend: Blend, wide: pd.DataFrame) -> list[str]:
    """The channels whose mean alone serves shrunk: on the hours of the queues that
    ``blend`` leaves at share 0, the shrunk mean's p50 error is not above the plain mean's
    on the latest fold, nor above it overall by more than the channel's standard errors of
    their daily difference.

    The shrunk mean is the incumbent here, the plain one the challenger: shrinking by
    empirical Bayes trades a little bias for less noise and was the better mean alone at
    every dataset, origin and channel measured (docs/accuracy.md), while on a channel's
    noisy held-out hours the gain it brings (1–5 % of the error against the hour's actual
    median) seldom clears a standard error either way.
    """
    weight = blend.weight_of(wide)
    return _kept_shrunk(wide, weight, weight <= 0.0, evident_latest=False)


def partner_channels(blend: Blend, wide: pd.DataFrame) -> list[str]:
    """The channels whose blends take the shrunk mean as the model's partner: on the hours
    of the queues that ``blend`` serves a share strictly between 0 and 1, the blend with
    the shrunk mean is not worse than the blend with the plain one by the channel's
    standard errors of their daily difference, overall or on the latest fold.

    The shares themselves are chosen against the plain mean (:func:`choose_weights`); this
    only swaps the partner at those shares, with the shrunk mean as the incumbent for the
    reason given in :func:`shrunk_channels`. Unlike there, a loss on the latest fold
    counts only when it is evident on that fold's days: blends that share three quarters
    of their forecast differ by a hundredth of their error on held-out hours (the
    nineteenth session's measurements in docs/accuracy.md), and the sign of such a
    difference on one fold is a coin toss.
    """
    weight = blend.weight_of(wide)
    return _kept_shrunk(wide, weight, (weight > 0.0) & (weight < 1.0), evident_latest=True)


def _kept_shrunk(
    wide: pd.DataFrame, weight: np.ndarray, rows: np.ndarray, evident_latest: bool
) -> list[str]:
    """The channels of ``rows`` on which serving the shrunk mean in place of the plain one,
    at the model shares ``weight``, is kept: it did not lose the latest fold (by any
    margin, or with ``evident_latest`` by the channel's standard errors on that fold's
    days) and the plain mean does not beat it overall by the channel's evidence."""
    if SHRUNK_Q[1] not in wide or wide[SHRUNK_Q[1]].equals(wide[BASE_Q[1]]):
        return []
    actual = wide[s.WAIT_P50].to_numpy(float)
    model = np.where(weight > 0.0, weight * wide[MODEL_Q[1]].to_numpy(float), 0.0)
    rest = 1 - weight
    difference = pd.Series(
        np.abs(model + rest * wide[SHRUNK_Q[1]].to_numpy(float) - actual)
        - np.abs(model + rest * wide[BASE_Q[1]].to_numpy(float) - actual),
        index=wide.index,
    )
    channel = wide[s.CHANNEL].astype(str).to_numpy()
    origins = wide[ORIGIN].to_numpy()
    latest = origins == origins.max()
    when = wide[[s.DATE, ORIGIN]]
    chosen = []
    for name in np.unique(channel[rows]):
        mine = rows & (channel == name)
        if evident_latest:
            lost = _evident(-difference[mine & latest], when, CHANNEL_Z)
        else:
            lost = bool(difference[mine & latest].mean() > 0)
        if not lost and not _evident(-difference[mine], when, CHANNEL_Z):
            chosen.append(str(name))
    return chosen


def queue_z(queues: int) -> float:
    """Standard errors a queue needs to leave its channel's choice, among ``queues`` judged.

    Each queue is one test of many: at ``QUEUE_Z`` alone, one queue in forty leaves by
    chance, several of California's 188 per channel, and their forecasts then lose to the
    channel's choice. The threshold holds the chance that any of them leaves by luck to
    ``QUEUE_FAMILY_MISS`` (Bonferroni): 2.7 standard errors among 15 queues, 3.5 among 188.
    """
    if queues <= 1:
        return QUEUE_Z
    return max(QUEUE_Z, NormalDist().inv_cdf(1 - QUEUE_FAMILY_MISS / queues))


def _evident_share(
    errors: pd.DataFrame, when: pd.DataFrame, against: float = 0.0, z: float = CHANNEL_Z
) -> float:
    """The share with the lowest mean error, when it beats share ``against`` (by default
    the historical mean's, 0) by more than ``z`` standard errors of their difference and
    is not worse than it on the latest fold; else ``against``.

    ``when`` gives each hour's date and backtest origin. The standard error is taken over
    days (the mean difference of each day), since the hours of one day share their
    errors: a channel-wide choice needs evidence from many days, not many hours of a few.
    """
    best = float(errors.mean().idxmin())
    if best == against:
        return best
    return best if _evident(errors[best] - errors[against], when, z) else against


def _evident(difference: pd.Series, when: pd.DataFrame, z: float) -> bool:
    """Whether per-hour error differences (candidate − incumbent) favour the candidate by
    more than ``z`` standard errors of their daily means, and not less on the latest fold
    (``when``: each hour's date and origin, aligned by index)."""
    if difference.empty:
        return False
    when = when.loc[difference.index]
    daily = difference.groupby(when[s.DATE].to_numpy()).mean()
    if len(daily) < 2:
        return False
    se = daily.std(ddof=1) / np.sqrt(len(daily))
    origins = when[ORIGIN].to_numpy()
    latest = origins == origins.max()
    if not latest.all() and difference[latest].mean() > 0:
        return False
    return bool(daily.mean() < -z * se)


def fit_offsets(blend: Blend, wide: pd.DataFrame, outcomes: pd.DataFrame) -> Blend:
    """The blend with conformal offsets of its p10–p90 from the hours' outcomes.

    The outcomes are those of the latest fold (the one nearest the forecast) when it has
    enough of them: how far waits stray from the forecast drifts with the season, and the
    older folds' spread is not the next weeks' (California's November–December folds made
    January's range hold 87 % of posts; the December fold alone, 80 %).
    """
    latest = wide[ORIGIN] == wide[ORIGIN].max()
    if not latest.all():
        recent = wide[latest]
        enough = outcomes.merge(recent[KEYS], on=KEYS, how="inner")
        if len(enough) >= MIN_OUTCOMES:
            wide, outcomes = recent, enough
    weight = blend.weight_of(wide)
    q = np.clip(mixed(wide, weight, blend), 0, None)
    keyed = wide[KEYS].assign(_lo=np.log1p(q[:, 0]), _hi=np.log1p(q[:, 2]), _w=weight)
    joined = keyed.merge(outcomes[[*KEYS, s.WAIT]], on=KEYS, how="inner")
    if joined.empty:
        return blend
    groups = joined[s.CHANNEL].astype(str) + "|" + joined["_w"].map(lambda w: f"{w:g}")
    args = (joined["_lo"].to_numpy(), joined["_hi"].to_numpy(), joined[s.WAIT].to_numpy(float))
    # Per channel and share where there are enough outcomes, else per channel, else pooled.
    counts = groups.value_counts()
    offsets = {
        key: value
        for key, value in conformal_offsets(*args, groups.to_numpy()).items()
        if counts.get(key, 0) >= MIN_OUTCOMES
    }
    offsets |= conformal_offsets(*args, joined[s.CHANNEL].astype(str).to_numpy())
    return dataclasses.replace(blend, offsets=offsets, notes=list(blend.notes))


def choose_blend(
    wide: pd.DataFrame, outcomes: pd.DataFrame, min_hours: int = MIN_HOURS, partner: bool = True
) -> Blend:
    """Shares and offsets from all held-out hours (what the served model uses)."""
    return fit_offsets(choose_weights(wide, min_hours, partner), wide, outcomes)


def served_out_of_fold(
    wide: pd.DataFrame, outcomes: pd.DataFrame, min_hours: int = MIN_HOURS, partner: bool = True
) -> pd.DataFrame:
    """Leave-one-fold-out served p10/p50/p90 of every held-out hour (honest scores)."""
    folds = _folds(wide)
    parts = []
    for fold in np.unique(folds):
        train, test = wide[folds != fold], wide[folds == fold]
        if train.empty:
            continue
        train_keys = train[KEYS]
        train_outcomes = outcomes.merge(train_keys, on=KEYS, how="inner")
        blend = choose_blend(train, train_outcomes, min_hours, partner)
        weight = blend.weight_of(test)
        channels = test[s.CHANNEL].astype(str).to_numpy()
        q = blend.calibrate(mixed(test, weight, blend), channels, weight)
        parts.append(
            test[[*KEYS, ORIGIN, s.WAIT_P50]].assign(
                **{s.P10: q[:, 0], s.P50: q[:, 1], s.P90: q[:, 2], "weight": weight}
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else wide.head(0)


def _folds(wide: pd.DataFrame) -> np.ndarray:
    """Backtest origins as folds; with one origin, the parity of the day."""
    origins = wide[ORIGIN].to_numpy()
    if len(np.unique(origins)) > 1:
        return np.array([str(o) for o in origins])
    return np.array([d.toordinal() % 2 for d in wide[s.DATE]]).astype(str)
