"""The domain errors of waitcast, one hierarchy for every layer.

::

    WaitcastError                       base of every error a user can fix
    ├── InputError (ValueError)         a file or frame breaks the data contract
    │   ├── MissingColumnError          a required column is absent: the file is refused
    │   └── UnusableInputError          too many rows rejected, or no rows at all
    ├── ParameterError (ValueError)     a wrong option or argument (names the parameter)
    ├── UnknownOfficeError (LookupError) an office id that is in neither registry nor data
    ├── CalendarError (ValueError)      a bad calendar override file
    ├── StoreError                      a data store folder that cannot be used or written
    └── ModelError                      anything about stored models
        ├── ModelNotFoundError (LookupError)  no such version, or no current model
        ├── ModelIntegrityError         a checksum or manifest does not match: refused
        └── RegistryError (OSError)     the registry folder cannot be read or written

Only the edges (the CLI and ``serving.errors``) turn these into exit codes or HTTP
statuses; the core raises them and never prints.
"""

from __future__ import annotations

__all__ = [
    "CalendarError",
    "InputError",
    "MissingColumnError",
    "ModelError",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "ParameterError",
    "RegistryError",
    "StoreError",
    "UnknownOfficeError",
    "UnusableInputError",
    "WaitcastError",
]


class WaitcastError(Exception):
    """Base class of every error a user can fix."""


class InputError(WaitcastError, ValueError):
    """A file or frame breaks the data contract."""


class MissingColumnError(InputError):
    """A required column is absent, so the whole file is refused."""


class UnusableInputError(InputError):
    """The input cannot be used: no usable rows, or too many rejected."""


class ParameterError(WaitcastError, ValueError):
    """A wrong option or argument; the message names the parameter."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


class UnknownOfficeError(WaitcastError, LookupError):
    """An office id that is in neither the registry nor the data."""

    def __init__(self, office_id: str) -> None:
        super().__init__(f"unknown office {office_id!r}: see the office registry (GET /v1/offices)")
        self.office_id = office_id

    def __str__(self) -> str:
        return str(self.args[0])


class CalendarError(WaitcastError, ValueError):
    """A calendar override file that cannot be used."""


class StoreError(WaitcastError):
    """A data store folder that is not a store, is newer than this code, or cannot be written."""


class ModelError(WaitcastError):
    """Anything about stored models."""


class ModelNotFoundError(ModelError, LookupError):
    """No such model version, or no current model."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "model not found"


class ModelIntegrityError(ModelError):
    """A model file does not match its manifest; it is refused."""


class RegistryError(ModelError, OSError):
    """The registry folder cannot be read or written."""
