"""Settings slices every service composes into its own prefixed settings class.

A service declares ``class ReceptionSettings(ServiceSettings)`` with
``model_config = service_config("RECEPTION_")``; nested slices are read from
``RECEPTION_MONGO__URL``, ``RECEPTION_KAFKA__BOOTSTRAP_SERVERS`` and so on.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class MongoSettings(BaseModel):
    url: str = "mongodb://127.0.0.1:27017/?replicaSet=secantus"
    database: str = Field(default="", description="Defaults to the service's name.")
    heartbeat_frequency_ms: int = Field(default=500, ge=500)
    server_selection_timeout_ms: int = Field(default=10_000, ge=100)


class KafkaSettings(BaseModel):
    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = Field(default="", description="Prepended to every topic name (isolates test runs).")
    request_timeout_ms: int = Field(default=10_000, ge=1_000)
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    heartbeat_interval_ms: int = Field(default=1_000, ge=100)
    max_poll_records: int = Field(default=100, ge=1)


class AuthSettings(BaseModel):
    """Where the staff token keys come from: an OIDC provider's JWKS URL in production,
    a local JWKS file in the embedded default."""

    jwks_url: str | None = None
    jwks_file: Path | None = None
    issuer: str | None = None
    audience: str | None = "motcua"
    jwks_timeout_seconds: float = 5.0

    @model_validator(mode="after")
    def _one_key_source(self) -> AuthSettings:
        if not self.jwks_url and not self.jwks_file:
            raise ValueError("set AUTH__JWKS_URL (production) or AUTH__JWKS_FILE (embedded default)")
        return self


class ConsumerSettings(BaseModel):
    max_attempts: int = Field(default=5, ge=1)
    backoff_initial_seconds: float = Field(default=0.2, gt=0)
    backoff_max_seconds: float = Field(default=5.0, gt=0)


class RelaySettings(BaseModel):
    batch_size: int = Field(default=200, ge=1)
    idle_poll_seconds: float = Field(default=0.2, gt=0)
    backoff_max_seconds: float = Field(default=5.0, gt=0)
    lease_seconds: float = Field(default=10.0, gt=1)


class ServiceSettings(BaseSettings):
    service_name: ClassVar[str] = ""

    host: str = "127.0.0.1"
    port: int
    log_level: str = "INFO"
    run_workers: bool = True
    mongo: MongoSettings = MongoSettings()
    kafka: KafkaSettings = KafkaSettings()
    auth: AuthSettings
    consumer: ConsumerSettings = ConsumerSettings()
    relay: RelaySettings = RelaySettings()

    @model_validator(mode="after")
    def _default_database(self) -> ServiceSettings:
        if not self.mongo.database:
            self.mongo.database = self.service_name or "motcua"
        return self


def service_config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_nested_delimiter="__", extra="ignore")
