"""The facade's settings, read once from the environment (prefix ``ONEWEB_``) at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.client import (
    DEFAULT_BREAKER_FAILURE_RATE,
    DEFAULT_BREAKER_MIN_CALLS,
    DEFAULT_BREAKER_RESET_S,
    DEFAULT_BREAKER_WINDOW_S,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_TIMEOUT_S,
)

from .caching import DEFAULT_CACHE_MAX_AGE_S
from .limits import (
    DEFAULT_MAX_ALIASES,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_QUERY_CHARS,
    DEFAULT_MAX_SELECTIONS,
    DEFAULT_MAX_TOKENS,
)
from .live_limits import DEFAULT_MAX_PER_CONNECTION, DEFAULT_MAX_PER_PRINCIPAL
from .persisted import DEFAULT_APQ_MAX_BYTES, DEFAULT_APQ_MAX_ENTRIES

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Every setting of the facade; docs/operations.md lists them (generated: `make docs`)."""

    model_config = SettingsConfigDict(env_prefix="ONEWEB_", extra="ignore", frozen=True)

    base_url: str | None = Field(
        default=None, description="ONEWEB base URL; unset: the embedded runtime, in process."
    )
    timeout_s: float = Field(
        default=DEFAULT_TIMEOUT_S,
        gt=0,
        description="Deadline of one upstream call in seconds: slot wait, connect, last byte.",
    )
    forward_headers: str = Field(
        default="Authorization,Cookie",
        description="Request headers passed upstream, comma-separated.",
    )
    user_header: str = Field(
        default="X-Remote-User", description="The trusted header that names the principal."
    )
    groups_header: str = Field(
        default="X-Remote-Groups",
        description="The trusted header that lists the principal's groups, comma-separated.",
    )
    roles_header: str = Field(
        default="X-Remote-Roles",
        description="The trusted header that lists the principal's roles, comma-separated.",
    )
    max_concurrency: int = Field(
        default=DEFAULT_MAX_CONCURRENCY,
        ge=1,
        description="Upstream calls in flight at once, per process (also the pool size).",
    )
    allow_user_override: bool = Field(
        default=False,
        description=(
            "Whether a `user`, `group` or `role` argument may name someone other than the "
            "principal (or its groups and roles)."
        ),
    )
    require_auth: bool = Field(
        default=False,
        description="Refuse (HTTP 401) a GraphQL request without a principal.",
    )
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 secret: bearer tokens signed with it name the principal."
    )
    jwt_public_key_file: Path | None = Field(
        default=None, description="RS256 public key (PEM file) that verifies bearer tokens."
    )
    jwt_jwks_file: Path | None = Field(
        default=None, description="JWKS file whose RS256 keys (by `kid`) verify bearer tokens."
    )
    jwt_audience: str | None = Field(
        default=None, description="Required `aud` of a bearer token (unset: not checked)."
    )
    jwt_issuer: str | None = Field(
        default=None, description="Required `iss` of a bearer token (unset: not checked)."
    )
    jwt_claim: str = Field(
        default="preferred_username,sub",
        description="Token claims that name the principal, comma-separated; the first present wins.",
    )
    jwt_groups_claim: str = Field(
        default="groups",
        description="Token claim with the principal's groups (a list, or comma-separated).",
    )
    jwt_roles_claim: str = Field(
        default="roles",
        description="Token claim with the principal's roles (a list, or comma-separated).",
    )
    jwt_leeway_s: float = Field(
        default=30.0, ge=0, description="Clock skew allowed when checking `exp` and `nbf`."
    )
    max_depth: int = Field(
        default=DEFAULT_MAX_DEPTH, ge=1, description="Deepest selection nesting of an operation."
    )
    max_aliases: int = Field(
        default=DEFAULT_MAX_ALIASES, ge=0, description="Most aliased fields in one document."
    )
    max_tokens: int = Field(
        default=DEFAULT_MAX_TOKENS, ge=1, description="Most lexical tokens in one document."
    )
    max_selections: int = Field(
        default=DEFAULT_MAX_SELECTIONS,
        ge=1,
        description="Most fields in one document with its fragments expanded.",
    )
    max_query_chars: int = Field(
        default=DEFAULT_MAX_QUERY_CHARS, ge=1, description="Most characters in one document."
    )
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES, ge=1, description="Largest request body, in bytes."
    )
    loaders: bool = Field(
        default=True,
        description="Batch and cache upstream reads per request (off: for comparison).",
    )
    db: Path | None = Field(
        default=None, description="SQLite file of the embedded runtime (default: user data dir)."
    )
    processes: Path | None = Field(
        default=None,
        description="Folder of .bpmn files of the embedded runtime (default: bundled).",
    )
    graphiql: bool = Field(default=True, description="Serve GraphiQL at GET /graphql to browsers.")
    introspection: bool = Field(default=True, description="Answer introspection queries.")
    cors_origins: str = Field(
        default="",
        description="Browser origins allowed by CORS, comma-separated (empty: no CORS headers).",
    )
    metrics: bool = Field(default=True, description="Serve Prometheus metrics at GET /metrics.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level logged (INFO: one line per request)."
    )
    log_json: bool = Field(
        default=False, description="Log one JSON object per line (else plain text)."
    )
    gc_tuning: bool = Field(
        default=False,
        description=(
            "Freeze startup objects and collect gen 0 every 20,000 allocations: less CPU per "
            "request, but up to tens of MiB more memory under failing upstream calls."
        ),
    )
    retry_reads: int = Field(
        default=1, ge=0, description="Retries of a read after a connection failure (jittered)."
    )
    breaker_failure_rate: float = Field(
        default=DEFAULT_BREAKER_FAILURE_RATE,
        gt=0,
        le=1,
        description="Share of failed upstream calls in the window that opens the circuit.",
    )
    breaker_min_calls: int = Field(
        default=DEFAULT_BREAKER_MIN_CALLS,
        ge=1,
        description="Fewest upstream calls in the window before the circuit may open.",
    )
    breaker_window_s: float = Field(
        default=DEFAULT_BREAKER_WINDOW_S,
        gt=0,
        description="Seconds of upstream calls the circuit breaker judges (a sliding window).",
    )
    breaker_reset_s: float = Field(
        default=DEFAULT_BREAKER_RESET_S,
        ge=0,
        description="Seconds the circuit stays open before one probe call.",
    )
    apq_max_entries: int = Field(
        default=DEFAULT_APQ_MAX_ENTRIES,
        ge=1,
        description="Automatic persisted queries kept per process (least recently used go first).",
    )
    apq_max_bytes: int = Field(
        default=DEFAULT_APQ_MAX_BYTES,
        ge=1,
        description="Total size of the automatic persisted queries kept per process, in bytes.",
    )
    trusted_documents: Path | None = Field(
        default=None,
        description="Manifest (JSON, sha256 -> document) of the only documents that run; unset: any.",
    )
    live_init_headers: bool | None = Field(
        default=None,
        description=(
            "Read trusted identity headers from a WebSocket's `connection_init` payload "
            "(unset: only with the embedded runtime; a verified bearer token is always read)."
        ),
    )
    live_interval_s: float = Field(
        default=2.0,
        gt=0,
        description=(
            "Seconds between two polls of a task listing that a live inbox subscription needs."
        ),
    )
    broadcast_url: str = Field(
        default="memory://",
        description=(
            "Where live-inbox change hints go to every replica: `memory://` (this process "
            "only) or `redis://HOST:PORT/DB` (Redis pub/sub shared by replicas)."
        ),
    )
    live_max_per_connection: int = Field(
        default=DEFAULT_MAX_PER_CONNECTION,
        ge=1,
        description=(
            "Operations one WebSocket connection may run at once; one more gets an "
            "`error` with code `TOO_MANY_SUBSCRIPTIONS`."
        ),
    )
    live_max_per_principal: int = Field(
        default=DEFAULT_MAX_PER_PRINCIPAL,
        ge=1,
        description=(
            "Subscriptions one principal may hold in this process, over WebSocket and HTTP "
            "together; one more is refused with `TOO_MANY_SUBSCRIPTIONS`."
        ),
    )
    live_send_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description=(
            "Seconds a message to a subscriber may wait for the client to read; longer: "
            "the client is dropped and its subscriptions end."
        ),
    )
    live_keepalive_s: float = Field(
        default=15.0,
        gt=0,
        description=(
            "Seconds between WebSocket pings (a pong not back within as long closes the "
            "connection) and between heartbeat parts of an HTTP subscription."
        ),
    )
    cache_max_age_s: int = Field(
        default=DEFAULT_CACHE_MAX_AGE_S,
        ge=0,
        description="max-age of a GET query's answer without credentials (0: never cached).",
    )

    @field_validator("broadcast_url")
    @classmethod
    def _known_broadcast(cls, value: str) -> str:
        scheme = value.partition("://")[0] if "://" in value else ""
        if scheme not in ("memory", "redis", "rediss"):
            raise ValueError("must be memory:// or redis://HOST:PORT/DB")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        """The CORS allow-list, blanks dropped."""
        return tuple(origin.strip() for origin in self.cors_origins.split(",") if origin.strip())

    @property
    def forwarded_header_names(self) -> tuple[str, ...]:
        """The forwarded header names, lower-cased, blanks dropped."""
        return tuple(
            name.strip().lower() for name in self.forward_headers.split(",") if name.strip()
        )

    @property
    def jwt_claim_names(self) -> tuple[str, ...]:
        """The claims that name the principal, in order, blanks dropped."""
        return tuple(name.strip() for name in self.jwt_claim.split(",") if name.strip())
