"""Notify's settings: ``NOTIFY_...`` environment variables, nested with ``__``."""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from motcua_kit.settings import ServiceSettings, service_config


class SmsSettings(BaseModel):
    url: str = "http://127.0.0.1:8091"
    api_key: str = "local-sms-key"
    sender: str = Field(default="MOTCUA", min_length=1, max_length=11)
    timeout_seconds: float = Field(default=5, gt=0)


class SmtpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 1025
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool = False
    sender: str = "Một cửa Khánh Hòa <no-reply@motcua.local>"
    timeout_seconds: float = Field(default=10, gt=0)


class NotifySettings(ServiceSettings):
    model_config = service_config("NOTIFY_")
    service_name: ClassVar[str] = "notify"

    port: int = 8004
    sms: SmsSettings = SmsSettings()
    smtp: SmtpSettings = SmtpSettings()
    send_max_attempts: int = Field(default=5, ge=1)
    send_backoff_initial_seconds: float = Field(default=2.0, gt=0)
    send_backoff_max_seconds: float = Field(default=300.0, gt=0)
    sender_poll_seconds: float = Field(default=0.5, gt=0)
    sending_lease_seconds: float = Field(default=30, gt=0)
    timezone: str = "Asia/Ho_Chi_Minh"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
