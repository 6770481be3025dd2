"""The command line's own words for a domain error: what is wrong, then how to fix it here.

The core's errors say what is wrong and name parameters as its functions do
(``max_reject_share``); only the command line knows its flags and commands. So
:func:`message` names the flag the running command declares for that parameter
(``--max-reject-share``, or an argument's ``NAME``) and adds a hint by error class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from features import errors as e

__all__ = ["message"]

Hint = str | Callable[[Any], str]  # the words, or the words made from the error's fields
# Most specific first: the first class the error is an instance of gives the hint.
_HINTS: tuple[tuple[type[Exception], Hint], ...] = (
    (
        e.UnknownOfficeError,
        "see the offices the model knows (`waitcast models show current`)",
    ),
    (
        e.TooManyRejectsError,
        "fix the input (`waitcast validate` writes the rejected rows), "
        "or pass --max-reject-share or --allow-rejects",
    ),
    (e.NoCurrentModelError, "train one with `waitcast train`"),
    (e.UnknownVersionError, "see `waitcast models list`"),
    (e.CurrentPointerError, "set it with `waitcast models promote VERSION`"),
    (e.RegistryError, "fix its permissions or free space, or pass --registry DIR"),
    (e.NoStoreError, lambda exc: f"create one with `waitcast ingest FILE... --store {exc.root}`"),
    (e.NotAStoreError, "pass --store DIR: a store, or a new or empty folder to ingest into"),
)


def _key_hints() -> tuple[tuple[type[Exception], Hint], ...]:
    from serving.keys import KeyExistsError, NoSuchKeyError  # only when an error is printed

    return (
        (
            KeyExistsError,
            lambda exc: f"revoke it first (`waitcast keys revoke {exc.name}`) or pick another name",
        ),
        (NoSuchKeyError, "see `waitcast keys list`"),
    )


def message(exc: e.WaitcastError, app: Any, argv: list[str]) -> str:
    """The one-line error the command line prints for ``exc`` raised by ``argv``'s command
    of the Typer ``app``."""
    text = str(exc)
    if isinstance(exc, e.ParameterError):
        flag = _flag(exc.parameter, app, argv)
        if flag is not None:
            text = f"{flag}: {exc.detail}"
    hints = (*_key_hints(), *_HINTS)
    hint = next((hint for kind, hint in hints if isinstance(exc, kind)), None)
    if hint is None:
        return text
    return f"{text}: {hint(exc) if callable(hint) else hint}"


def _flag(parameter: str, app: Any, argv: list[str]) -> str | None:
    """The option (``--max-reject-share``) or argument (``NAME``) of the running command
    whose Python name is ``parameter``; None when the command declares no such one."""
    import typer.main

    try:
        command = typer.main.get_command(app)
        context = command.context_class(command, info_name="waitcast")
        for token in argv:
            sub = command.get_command(context, token) if hasattr(command, "get_command") else None
            if sub is not None:
                command = sub
    except Exception:
        return None
    for param in getattr(command, "params", []):
        if param.name == parameter:
            if param.param_type_name == "option":
                return str(max(param.opts, key=len))
            return str(getattr(param, "metavar", None) or param.name.upper())
    return None
