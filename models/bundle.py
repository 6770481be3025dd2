"""Save and load a :class:`Forecaster` as a folder of plain files (no pickle).

Layout of a bundle folder (the registry adds ``metadata.json`` and ``manifest.json``)::

    spec.json            the FeatureSpec
    wait_p10.txt …       LightGBM text models (wait p10/p50/p90, arrivals, called)
    calibration.json     median shift and conformal offsets per channel
    served.json          the per-queue choice of estimator (model / historical mean /
                         blend), its range offsets, and the baseline's fallbacks
    calendar.json        closed days and open holidays learned from the data
    state.json           data end, booking lead times, feature names
    offices.json         the office registry the model was trained with
    history.parquet      the hourly-table tail the trailing features read
    queues.parquet       the queues the model forecasts
    cube.parquet         the forecasts of the first days after the data (when saved with a
                         calendar; see :mod:`models.cube_store`)

Load a bundle only through ``models.registry`` (which checks the manifest's checksums
first): :func:`load_bundle` trusts the folder it is given.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
from lightgbm.basic import LightGBMError

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.calendars import Calendars
from features.errors import ModelIntegrityError, NoCurrentModelError
from features.spec import FeatureSpec
from models.baselines import HistoricalMean
from models.blend import Blend
from models.calibration import CalibratedWaitRegressor
from models.cube_store import BUNDLE_FOLDER, save_cube
from models.estimators import (
    QUANTILE_TARGETS,
    CountRegressor,
    ShareRegressor,
    WaitQuantileRegressor,
    member_count,
    member_name,
)
from models.forecaster import Forecaster
from models.registry import ModelRegistry
from models.stored import (
    FORMAT_VERSION,
    read_learned,
    read_offices,
    read_queues,
    read_state,
)


def save_bundle(
    forecaster: Forecaster, folder: Path, calendar: ChinaCalendar | None = None
) -> None:
    """Write the forecaster's files into ``folder`` (which must exist); with a calendar,
    its forecast cube too (computed now, so that servers only load it)."""
    (folder / "spec.json").write_text(json.dumps(forecaster.spec.to_dict(), indent=1))
    for name, text in forecaster.wait.estimator_.to_texts().items():
        (folder / f"{name}.txt").write_text(text)
    if forecaster.arrivals is not None:
        (folder / "arrivals.txt").write_text(forecaster.arrivals.to_text())
    if forecaster.called is not None:
        (folder / "called.txt").write_text(forecaster.called.to_text())
    calibration = {
        "offsets": forecaster.wait.offsets_,
        "shift": forecaster.wait.shift_,
        "base_columns": forecaster.wait.estimator_.base_columns,
        "base_fill": forecaster.wait.estimator_.base_fill_,
        "relative_columns": forecaster.wait.estimator_.relative_columns,
        "keep_raw": forecaster.wait.estimator_.keep_raw,
    }
    (folder / "calibration.json").write_text(json.dumps(calibration, indent=1))
    served = {
        "blend": forecaster.blend.to_dict(),
        "baseline": forecaster.baseline.fallbacks() if forecaster.baseline else None,
    }
    (folder / "served.json").write_text(json.dumps(served, indent=1))
    learned = forecaster.calendars.learned.to_dict()
    (folder / "calendar.json").write_text(json.dumps(learned, ensure_ascii=False, indent=1))
    state = {
        "format": FORMAT_VERSION,
        "data_end": forecaster.data_end.isoformat(),
        "lead_days": forecaster.lead_days,
        "service_minutes": forecaster.service_minutes,
        "feature_names": forecaster.wait.feature_names_in_,
    }
    (folder / "state.json").write_text(json.dumps(state, indent=1))
    (folder / "offices.json").write_text(
        json.dumps({"offices": forecaster.offices.to_records()}, ensure_ascii=False, indent=1)
    )
    forecaster.history.to_parquet(folder / "history.parquet", index=False)
    forecaster.queues.to_parquet(folder / "queues.parquet", index=False)
    if calendar is not None:
        save_cube(forecaster, calendar, folder)


def _member_names(folder: Path) -> list[str]:
    """The wait model's booster files of a bundle: each quantile's first (required, as
    in every bundle), then its further members (``wait_p50.1.txt``...) if any."""
    files = {p.stem for p in folder.glob("*.txt")}
    return [
        member_name(q, i) for q in QUANTILE_TARGETS for i in range(max(1, member_count(files, q)))
    ]


def load_bundle(
    folder: Path, metadata: dict | None = None, china: ChinaCalendar | None = None
) -> Forecaster:
    """Rebuild a forecaster from a (verified) bundle folder.

    Args:
        folder: the bundle folder.
        metadata: the registry's metadata of the version.
        china: China's calendar to use (e.g. with an override file); default built-in.
    """
    try:
        spec = FeatureSpec.from_dict(json.loads((folder / "spec.json").read_text()))
        state = read_state(folder)
        names = list(state["feature_names"])
        calibration = json.loads((folder / "calibration.json").read_text())
        texts = {name: (folder / f"{name}.txt").read_text() for name in _member_names(folder)}
        quantiles = WaitQuantileRegressor.from_texts(
            texts,
            names,
            calibration.get("base_columns", ()),
            calibration.get("base_fill"),
            calibration.get("relative_columns", ()),
            calibration.get("keep_raw", False),
        )
        wait = CalibratedWaitRegressor.from_parts(
            quantiles, calibration.get("shift"), calibration["offsets"]
        )
        arrivals = (
            CountRegressor.from_text((folder / "arrivals.txt").read_text(), names)
            if (folder / "arrivals.txt").exists()
            else None
        )
        called = (
            ShareRegressor.from_text((folder / "called.txt").read_text(), names)
            if (folder / "called.txt").exists()
            else None
        )
        offices = read_offices(folder)
        history = pd.read_parquet(folder / "history.parquet")
        queues = read_queues(folder)
        served = json.loads((folder / "served.json").read_text())
        blend = Blend.from_dict(served["blend"])
        baseline = (
            HistoricalMean.served(spec).with_fallbacks(served["baseline"])
            if served.get("baseline")
            else None
        )
        learned = read_learned(folder)
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError, LightGBMError) as exc:
        raise ModelIntegrityError(f"model bundle {folder} cannot be loaded: {exc}") from None
    history[s.DATE] = pd.to_datetime(history[s.DATE]).dt.date
    return Forecaster(
        spec=spec,
        wait=wait,
        arrivals=arrivals,
        called=called,
        history=history,
        offices=offices,
        calendars=Calendars(china, learned),
        queues=queues,
        data_end=dt.date.fromisoformat(state["data_end"]),
        baseline=baseline,
        blend=blend,
        lead_days={k: float(v) for k, v in state.get("lead_days", {}).items()},
        service_minutes={k: float(v) for k, v in state.get("service_minutes", {}).items()},
        metadata=metadata or {},
    )


def load_from_registry(
    registry: ModelRegistry, version: str | None = None, china: ChinaCalendar | None = None
) -> Forecaster:
    """The forecaster of ``version`` (default: current), after its checksums match."""
    if version is None:
        version = registry.current_version()
        if version is None:
            raise NoCurrentModelError(f"no current model in {registry.root}")
    folder = registry.verified_path(version)
    metadata = dict(registry.metadata(version))
    metadata.setdefault("version", version)
    metadata[BUNDLE_FOLDER] = str(folder)  # where the stored cube is read from
    return load_bundle(folder, metadata, china)
