"""Settings common to every service; each service subclasses with its own ``env_prefix``.

Fields read from unprefixed variables (``NATS_URL``, ``CARNET_ENV``…) declare a validation alias,
which pydantic-settings reads as is.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


DEV_PUBLIC_URL = "http://127.0.0.1:8080"


def _alias(name: str) -> AliasChoices:
    return AliasChoices(name)


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # Production unless told otherwise: a forgotten CARNET_ENV must never serve login links on /dev/mailbox
    # or sign with a development key. ``make run`` (``carnet up``) and the test harness choose dev explicitly.
    env: Literal["dev", "test", "prod"] = Field("prod", validation_alias=_alias("CARNET_ENV"))
    nats_url: str = Field("nats://127.0.0.1:4222", validation_alias=_alias("NATS_URL"))
    var_dir: Path = Field(Path("var"), validation_alias=_alias("CARNET_VAR_DIR"))
    # Links in emails and the OIDC callback are built on it: required in production, a local default in dev.
    public_url: str = Field("", validation_alias=_alias("CARNET_PUBLIC_URL"))
    trace_file: Path | None = Field(None, validation_alias=_alias("CARNET_TRACE_FILE"))
    log_level: str = Field("info", validation_alias=_alias("CARNET_LOG_LEVEL"))
    rpc_timeout_s: float = Field(5.0, validation_alias=_alias("CARNET_RPC_TIMEOUT_S"))

    # Prefixed per service: IDENTITY_DATABASE_URL, IDENTITY_HEALTH_PORT…
    database_url: str = ""
    health_host: str = "127.0.0.1"
    health_port: int = 0

    @model_validator(mode="after")
    def _production_has_a_public_url(self):
        if not self.public_url:
            if self.env == "prod":
                raise ValueError("CARNET_PUBLIC_URL must be set in production (CARNET_ENV=dev for a local run)")
            self.public_url = DEV_PUBLIC_URL
        return self

    @property
    def dev_mode(self) -> bool:
        return self.env in ("dev", "test")

    def resolved_database_url(self, service: str) -> str:
        from servicekit.db import async_url, default_database_url

        return async_url(self.database_url) if self.database_url else default_database_url(self.var_dir, service)
