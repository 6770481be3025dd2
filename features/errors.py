"""The domain errors of waitcast, one hierarchy for every layer.

::

    WaitcastError                       base of every error a user can fix
    ├── InputError (ValueError)         a file or frame breaks the data contract
    │   ├── MissingColumnError          a required column is absent: the file is refused
    │   └── UnusableInputError          no usable rows at all
    │       └── TooManyRejectsError     more rows rejected than the limit allows
    ├── ParameterError (ValueError)     a wrong option or argument (names the parameter)
    ├── UnknownOfficeError (LookupError) an office id that is in neither registry nor data
    ├── CalendarError (ValueError)      a bad calendar override file
    ├── StoreError                      a data store folder that cannot be used or written
    │   ├── NoStoreError                no store at that folder yet
    │   └── NotAStoreError              a file, or a folder holding something else
    └── ModelError                      anything about stored models
        ├── ModelNotFoundError (LookupError)  no such version, or no current model
        │   ├── NoCurrentModelError     no version has been made current
        │   └── UnknownVersionError     no version of that id
        ├── ModelIntegrityError         a checksum or manifest does not match: refused
        │   └── CurrentPointerError     the current-version pointer holds no version id
        └── RegistryError (OSError)     the registry folder cannot be read or written

The core says what is wrong and never how to fix it with a flag, a command or a route:
only the edges know those. The CLI (``cli.hints``) and the API (``serving.errors``) add
their own hints by error class (and its fields: ``parameter``, ``office_id``, ``root``)
and turn these into exit codes or HTTP statuses; the core raises them and never prints.
"""

from __future__ import annotations

__all__ = [
    "CalendarError",
    "CurrentPointerError",
    "InputError",
    "MissingColumnError",
    "ModelError",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "NoCurrentModelError",
    "NoStoreError",
    "NotAStoreError",
    "ParameterError",
    "RegistryError",
    "StoreError",
    "TooManyRejectsError",
    "UnknownOfficeError",
    "UnknownVersionError",
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


class TooManyRejectsError(UnusableInputError):
    """More rows rejected than the limit allows (the limit can be raised by the caller)."""


class ParameterError(WaitcastError, ValueError):
    """A wrong option or argument; the message names the parameter."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter  # as the core names it (a function's parameter)
        self.detail = message


class UnknownOfficeError(WaitcastError, LookupError):
    """An office id that is in neither the registry nor the data."""

    def __init__(self, office_id: str) -> None:
        super().__init__(f"unknown office {office_id!r}")
        self.office_id = office_id

    def __str__(self) -> str:
        return str(self.args[0])


class CalendarError(WaitcastError, ValueError):
    """A calendar override file that cannot be used."""


class StoreError(WaitcastError):
    """A data store folder that is not a store, is newer than this code, or cannot be written."""

    def __init__(self, message: str, root: object = None) -> None:
        super().__init__(message)
        self.root = root  # the store folder, when the error is about it


class NoStoreError(StoreError):
    """No store has been created at the folder."""


class NotAStoreError(StoreError):
    """The path is a file, or a folder that holds something other than a store."""


class ModelError(WaitcastError):
    """Anything about stored models."""


class ModelNotFoundError(ModelError, LookupError):
    """No such model version, or no current model."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "model not found"


class NoCurrentModelError(ModelNotFoundError):
    """No version has been made current (none trained, or none promoted)."""


class UnknownVersionError(ModelNotFoundError):
    """No stored version has that id."""


class ModelIntegrityError(ModelError):
    """A model file does not match its manifest; it is refused."""


class CurrentPointerError(ModelIntegrityError):
    """The registry's current-version pointer holds something other than a version id."""


class RegistryError(ModelError, OSError):
    """The registry folder cannot be read or written."""
