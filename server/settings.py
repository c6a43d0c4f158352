"""The facade's settings, read once from the environment (prefix ``ONEWEB_``) at start-up."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Every setting of the facade; the README's settings table lists them with their env vars."""

    model_config = SettingsConfigDict(env_prefix="ONEWEB_", extra="ignore", frozen=True)

    base_url: str | None = Field(
        default=None, description="ONEWEB base URL; unset: the embedded runtime, in process."
    )
    timeout_s: float = Field(default=10.0, gt=0, description="Upstream timeout in seconds.")
    forward_headers: str = Field(
        default="Authorization,Cookie",
        description="Request headers passed upstream, comma-separated.",
    )
    user_header: str = Field(
        default="X-Remote-User", description="The trusted header that names the principal."
    )
    max_concurrency: int = Field(
        default=16, ge=1, description="Upstream calls in flight at once, per process."
    )
    allow_user_override: bool = Field(
        default=True,
        description="Whether a `user` argument may name someone other than the principal.",
    )
    loaders: bool = Field(
        default=True,
        description="Batch and cache upstream reads per request (off: for comparison).",
    )
    transport: str = Field(
        default="auto", description="Upstream HTTP transport: auto, aiohttp or httpx."
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

    @property
    def forwarded_header_names(self) -> tuple[str, ...]:
        """The forwarded header names, lower-cased, blanks dropped."""
        return tuple(
            name.strip().lower() for name in self.forward_headers.split(",") if name.strip()
        )
