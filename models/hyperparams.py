"""The hyper-parameters every LightGBM estimator of waitcast shares, and their defaults.

The defaults below are the one place they are spelled: the estimators' constructors
(:class:`LightGBMEstimator`) and :class:`training.pipeline.TrainConfig` (what
``waitcast train`` fits with) both read them, so an estimator built with no arguments is
the production model's.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError

__all__ = [
    "BAG_SUBSAMPLE",
    "COLSAMPLE",
    "EARLY_STOPPING_ROUNDS",
    "LEARNING_RATE",
    "MEDIAN_BAG",
    "MEDIAN_LOSS",
    "MIN_CHILD_SAMPLES",
    "NUM_LEAVES",
    "N_ESTIMATORS",
    "N_JOBS",
    "RANDOM_STATE",
    "RANGE_LEARNING_RATE",
    "REG_LAMBDA",
    "SUBSAMPLE",
    "LightGBMEstimator",
    "check_fitted",
    "lightgbm_params",
    "member_seed",
    "train_booster",
]

N_ESTIMATORS = 160  # boosting rounds (at most: early stopping may keep fewer)
LEARNING_RATE = 0.075
NUM_LEAVES = 31
MIN_CHILD_SAMPLES = 40
SUBSAMPLE = 0.8  # share of rows each tree sees
COLSAMPLE = 0.8  # share of features each tree sees
REG_LAMBDA = 1.0  # L2 penalty on leaf values
# Threads per fit. One: the backtest runs folds in parallel processes, and OpenMP threads
# on a busy machine slow a fit down by an order of magnitude.
N_JOBS = 1
RANDOM_STATE = 0
MEDIAN_LOSS = "l1"  # the loss of the p50 wait model: "l1" (the hour's median) or "l2"
# Boosters of the p50 wait model, each with its own seed (rows and features sampled
# differently), their log1p outputs averaged: less of one fit's noise in the forecast.
# One (no bag) by default. Three on 80 % of the rows were better at 9 of 14 simulator rows
# of the accuracy suite but took one simulated year's training over the 120 s target
# (sixteenth session); three on BAG_SUBSAMPLE of the rows cost less than one booster but
# chose a blend that lost to the mean on a three-month history (docs/accuracy.md,
# seventeenth session).
MEDIAN_BAG = 1
# Share of rows each tree of a bag's member sees (a lone booster sees SUBSAMPLE).
BAG_SUBSAMPLE = 0.4
# Learning rate of the p10 and p90 wait models. Their level is set afterwards (conformal
# offsets on the calibration window); at twice the p50's rate they stop in about a third
# of the rounds, and the suite's ranges are the same within the fits' noise.
RANGE_LEARNING_RATE = 0.15
EARLY_STOPPING_ROUNDS = 20  # rounds without improvement on the eval set before stopping


class LightGBMEstimator(BaseEstimator, RegressorMixin):
    """Base of the LightGBM estimators: stores the shared hyper-parameters (scikit-learn
    contract: ``__init__`` only stores them)."""

    def __init__(
        self,
        n_estimators: int = N_ESTIMATORS,
        learning_rate: float = LEARNING_RATE,
        num_leaves: int = NUM_LEAVES,
        min_child_samples: int = MIN_CHILD_SAMPLES,
        subsample: float = SUBSAMPLE,
        colsample: float = COLSAMPLE,
        reg_lambda: float = REG_LAMBDA,
        n_jobs: int = N_JOBS,
        random_state: int = RANDOM_STATE,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample = colsample
        self.reg_lambda = reg_lambda
        self.n_jobs = n_jobs
        self.random_state = random_state


def lightgbm_params(estimator: LightGBMEstimator, objective: str) -> dict[str, Any]:
    """LightGBM's training parameters for ``estimator``'s hyper-parameters and ``objective``."""
    return {
        "objective": objective,
        "learning_rate": estimator.learning_rate,
        "num_leaves": estimator.num_leaves,
        "min_data_in_leaf": estimator.min_child_samples,
        "feature_fraction": estimator.colsample,
        "bagging_fraction": estimator.subsample,
        "bagging_freq": 1 if estimator.subsample < 1 else 0,
        "lambda_l2": estimator.reg_lambda,
        "cat_smooth": 20,
        "min_data_per_group": 50,
        "num_threads": estimator.n_jobs,
        "seed": estimator.random_state,
        "deterministic": True,
        "force_row_wise": True,
        "max_bin": 63,
        "verbosity": -1,
    }


def member_seed(seed: int, member: int) -> int:
    """The LightGBM seed of member ``member`` of a bag of boosters (member 0: ``seed``)."""
    return seed + 1000 * member


def train_booster(
    params: dict[str, Any], X: pd.DataFrame, y: np.ndarray, weight: np.ndarray | None, rounds: int
) -> lgb.Booster:
    """One LightGBM booster trained for ``rounds`` rounds."""
    data = lgb.Dataset(X, label=y, weight=weight, free_raw_data=True)
    return lgb.train(params, data, num_boost_round=rounds)


def check_fitted(estimator: Any, attribute: str) -> None:
    """Refuse an estimator that has no ``attribute`` yet (scikit-learn's NotFittedError)."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(f"{type(estimator).__name__} is not fitted yet; call fit first")
