"""The server's settings: one pydantic-settings class read from ``WAITCAST_*`` variables.

Outside development the server refuses to start without a real admin token: a missing
token, a known default (``changethis``) or one shorter than 16 characters is an error.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from serving.statestore import check_state_url, default_state_url

DEFAULT_ADMIN_TOKEN = "changethis"
MIN_TOKEN_LENGTH = 16
MIN_WATCH_SECONDS = 0.05
_UNSAFE_TOKENS = frozenset({DEFAULT_ADMIN_TOKEN, "changeme", "secret", "admin", "token"})


def _split_origins(value: Any) -> Any:
    """``a,b`` or a JSON list → a list of origins."""
    if isinstance(value, str) and not value.strip().startswith("["):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, str):
        return json.loads(value)
    return value


class Settings(BaseSettings):
    """Everything the server reads from its environment (prefix ``WAITCAST_``)."""

    model_config = SettingsConfigDict(env_prefix="WAITCAST_", extra="ignore", frozen=True)

    registry: Path = Field(default=Path(".waitcast/registry"), description="Model registry folder.")
    env: Literal["development", "production"] = Field(
        default="production", description="`development` allows the default admin token."
    )
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer token for queue-state posts and reloads."
    )
    cors_origins: Annotated[list[str], NoDecode, BeforeValidator(_split_origins)] = Field(
        default_factory=list, description="Origins allowed by CORS (comma-separated)."
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    rate_limit_per_minute: int = Field(
        default=1200,
        ge=0,
        le=1_000_000,
        description="Requests a minute per client IP on every route but health and metrics "
        "(0: no limit).",
    )
    rate_limit_burst: int = Field(
        default=200, ge=1, le=1_000_000, description="Requests a client may make at once."
    )
    worker_threads: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Threads running the CPU-bound requests (advice, best times, forecasts "
        "beyond the cube, reloads); more only add memory and tail latency.",
    )
    cube_days: int = Field(default=60, ge=1, le=366, description="Days precomputed at load.")
    horizon_days: int = Field(default=180, ge=1, le=730, description="Latest date, in days.")
    ondemand_cache_days: int = Field(
        default=4096, ge=16, le=1_000_000, description="Office-days kept beyond the cube (LRU)."
    )
    response_cache_mb: int = Field(
        default=64,
        ge=0,
        le=65_536,
        description="Advice and best-times answers kept per loaded model (LRU, MiB); 0: none.",
    )
    live_fresh_minutes: int = Field(default=15, ge=1, le=24 * 60)
    stale_after_days: int = Field(default=14, ge=1, le=3650)
    calendar_file: Path | None = Field(default=None, description="Calendar override CSV.")
    state_url: str | None = Field(
        default=None,
        description="The state store (queue states, partner keys, rate limits): "
        "sqlite:///PATH (default: a file beside the registry) or "
        "redis://HOST:PORT/DB.",
    )
    watch_seconds: float = Field(
        default=5.0,
        ge=0,
        le=25.0,
        description="How often each worker looks at the registry's current version (and "
        "loads a newly promoted one) and at the date (and rolls its cube); 0 "
        "turns it off (then only POST /v1/admin/reload switches versions).",
    )

    @field_validator("state_url")
    @classmethod
    def _known_store(cls, value: str | None) -> str | None:
        return check_state_url(value.strip()) if value and value.strip() else None

    @property
    def state_store_url(self) -> str:
        """The state store's URL: ``WAITCAST_STATE_URL``, else SQLite beside the registry."""
        return self.state_url or default_state_url(self.registry)

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.horizon_days < self.cube_days:
            raise ValueError("WAITCAST_HORIZON_DAYS must be at least WAITCAST_CUBE_DAYS")
        if 0 < self.watch_seconds < MIN_WATCH_SECONDS:
            raise ValueError(
                f"WAITCAST_WATCH_SECONDS must be 0 (off) or at least {MIN_WATCH_SECONDS}"
            )
        token = self.admin_token.get_secret_value() if self.admin_token else ""
        unsafe = token.lower() in _UNSAFE_TOKENS or len(token) < MIN_TOKEN_LENGTH
        if not unsafe:
            return self
        if self.env != "development":
            raise ValueError(
                "WAITCAST_ADMIN_TOKEN is missing, a default or shorter than "
                f"{MIN_TOKEN_LENGTH} characters: set a long random token "
                "(or WAITCAST_ENV=development for local use)"
            )
        warnings.warn(
            "WAITCAST_ADMIN_TOKEN is unsafe; acceptable only in development",
            stacklevel=2,
        )
        if not token:
            object.__setattr__(self, "admin_token", SecretStr(DEFAULT_ADMIN_TOKEN))
        return self

    @property
    def token_bytes(self) -> bytes:
        """The admin token as bytes, for constant-time comparison."""
        assert self.admin_token is not None  # set by the validator
        return self.admin_token.get_secret_value().encode()
