"""Fixtures of the reliability tests: the serving tests' small trained model and registry.

The fixtures are the serving tests' own (imported, not copied): one small forecaster per
session, a registry holding it as v0001, and a private copy of that registry per test.
"""

from __future__ import annotations

from tests.serving.conftest import base_registry, clock, forecaster, registry

__all__ = ["base_registry", "clock", "forecaster", "registry"]
