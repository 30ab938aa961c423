"""Notify's settings: ``NOTIFY_...`` environment variables, nested with ``__``."""

from __future__ import annotations

from datetime import time
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from motcua_kit.settings import ServiceSettings, service_config


class SmsSettings(BaseModel):
    """One brand-name SMS gateway."""

    name: str = Field(default="sms_gateway", min_length=1, max_length=40, description="Provider name in metrics.")
    url: str = "http://127.0.0.1:8091"
    api_key: str = "local-sms-key"
    sender: str = Field(default="MOTCUA", min_length=1, max_length=11)
    timeout_seconds: float = Field(default=5, gt=0)
    receipt_url: str | None = Field(default=None, description="Where the gateway posts delivery receipts (notify).")
    max_per_second: int = Field(default=50, ge=1, description="The provider's rate limit, across replicas.")


class SmtpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 1025
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool = False
    sender: str = "Một cửa Khánh Hòa <no-reply@motcua.local>"
    bounce_address: str | None = Field(default=None, description="Envelope sender that receives bounces.")
    timeout_seconds: float = Field(default=10, gt=0)
    max_per_second: int = Field(default=20, ge=1, description="The relay's rate limit, across replicas.")

    @field_validator("bounce_address")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None  # an empty envelope sender would mean "this is a bounce"


class QuietHours(BaseModel):
    """No SMS between ``start`` and ``end`` (local time): they wait until ``end``."""

    enabled: bool = True
    start: time = time(21, 0)
    end: time = time(7, 0)


class NotifySettings(ServiceSettings):
    model_config = service_config("NOTIFY_")
    service_name: ClassVar[str] = "notify"

    port: int = 8004
    sms: SmsSettings = SmsSettings()
    sms_backup: SmsSettings | None = Field(default=None, description="A second SMS gateway to fail over to.")
    smtp: SmtpSettings = SmtpSettings()
    send_max_attempts: int = Field(default=8, ge=1)
    send_window_seconds: float = Field(
        default=6 * 3600, gt=0, description="Retry for this long after the message was owed, then technical failure."
    )
    failover_after_failures: int = Field(default=3, ge=1, description="Consecutive failures that take a provider out.")
    failover_cooldown_seconds: float = Field(default=300, gt=0, description="How long a failing provider stays out.")
    fallback_to_other_channel: bool = Field(
        default=True, description="A permanent failure on one channel sends the message on the other, if known."
    )
    quiet_hours: QuietHours = QuietHours()
    send_backoff_initial_seconds: float = Field(default=2.0, gt=0)
    send_backoff_max_seconds: float = Field(default=300.0, gt=0)
    sender_poll_seconds: float = Field(default=0.5, gt=0)
    sender_concurrency: int = Field(
        default=1, ge=1, le=64, description="Messages sent side by side per replica (see bench/README.md)."
    )
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
