"""`waitcast train --engine dask [--scheduler ADDRESS | --workers N]`: where the fits run.

With ``--engine dask`` the training recipe is unchanged but its fits run on a Dask
cluster (:mod:`training.dask_fit`): the one at ``--scheduler`` (started elsewhere with
``dask scheduler`` and ``dask worker``), else a ``LocalCluster`` of ``--workers``
processes on this machine. Backtest folds then run one after another: concurrent
``lightgbm.dask`` fits on the same workers can hang.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

import typer

from features.errors import ParameterError
from training.pipeline import TrainConfig

__all__ = ["Engine", "EngineOpt", "SchedulerOpt", "WorkersOpt", "dask_engine", "engine_config"]

CONNECT_SECONDS = 20


class Engine(StrEnum):
    """Where the LightGBM fits run."""

    LOCAL = "local"
    DASK = "dask"


EngineOpt = Annotated[
    Engine, typer.Option("--engine", help="local: this process; dask: a Dask cluster.")
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786."),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, max=64, help="Workers of the LocalCluster (default 2)."),
]


# Above this many stored rows the local backtest fits one fold at a time: every fold in
# parallel holds its own copy of the training data (about 7 GB each at 10^8 tickets).
SEQUENTIAL_FOLDS_ROWS = 20_000_000


def engine_config(config: TrainConfig, engine: Engine, rows: int = 0) -> TrainConfig:
    """The training config for ``engine`` and ``rows`` stored rows (dask, or a store of
    more than :data:`SEQUENTIAL_FOLDS_ROWS`: one backtest fold at a time)."""
    if engine is Engine.DASK:
        return dataclasses.replace(config, engine=engine.value, parallel_folds=1)
    if rows > SEQUENTIAL_FOLDS_ROWS:
        return dataclasses.replace(config, parallel_folds=1)
    return config


@contextlib.contextmanager
def dask_engine(engine: Engine, scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A ``distributed.Client`` for the dask engine (None for the local one), closed after."""
    if engine is Engine.LOCAL:
        if scheduler or workers:
            option = "--scheduler" if scheduler else "--workers"
            raise ParameterError(option, "is for --engine dask")
        yield None
        return
    if scheduler and workers:
        raise ParameterError(
            "--workers", "starts a local cluster: give it or --scheduler, not both"
        )
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler:
            try:
                client = stack.enter_context(Client(scheduler, timeout=CONNECT_SECONDS))
            except (OSError, TimeoutError, ValueError) as exc:
                raise ParameterError(
                    "--scheduler", f"cannot reach a Dask scheduler at {scheduler} ({exc})"
                ) from None
        else:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers or 2,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,
                )
            )
            client = stack.enter_context(Client(cluster))
        yield client
