from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field, model_validator

from motcua_kit.settings import ServiceSettings, service_config
from postal.domain.transit import TransitRules


class CarrierSettings(BaseModel):
    """The carrier postal works with (VNPost's API shape) and the partner scope of its staff tokens."""

    code: str = Field(default="vnpost", description="Carrier code in metrics, events and shipment records.")
    partner: str = Field(default="VNPOST-KHH", description="Scope of the postal partner's staff tokens.")
    url: str = "http://127.0.0.1:8092"
    api_key: str = Field(default="", description="Bearer key for the carrier's API.")
    webhook_secret: str = Field(default="", description="Shared secret of the carrier's signed callbacks.")
    webhook_url: str | None = Field(default=None, description="Where the carrier posts callbacks (this service).")
    webhook_tolerance_seconds: float = Field(default=300.0, gt=0, description="Callbacks older than this are refused.")
    timeout_seconds: float = Field(default=5.0, gt=0)
    call_attempts: int = Field(default=3, ge=1, description="Attempts of one call for retryable errors.")
    call_backoff_initial_seconds: float = Field(default=0.2, gt=0)
    call_backoff_max_seconds: float = Field(default=2.0, gt=0)
    service_type: str = Field(default="HCC", description="The carrier's service code for public-administration mail.")
    delivery_weight_grams: int = Field(default=300, gt=0)
    pickup_weight_grams: int = Field(default=800, gt=0)

    @model_validator(mode="after")
    def _secrets(self) -> CarrierSettings:
        if not self.api_key or not self.webhook_secret:
            raise ValueError("set CARRIER__API_KEY and CARRIER__WEBHOOK_SECRET (the carrier's key and callback secret)")
        return self


class PostalSettings(ServiceSettings):
    model_config = service_config("POSTAL_")
    service_name: ClassVar[str] = "postal"

    port: int = 8003
    carrier: CarrierSettings
    transit: TransitRules = TransitRules()
    max_delivery_attempts: int = Field(default=2, ge=1, description="Failed attempts before the result goes back.")
    redelivery_working_days: int = Field(default=2, ge=1, description="Working days between delivery attempts.")
    command_poll_seconds: float = Field(default=1.0, gt=0, description="How often due carrier calls are looked for.")
    command_backoff_initial_seconds: float = Field(default=5.0, gt=0)
    command_backoff_max_seconds: float = Field(default=300.0, gt=0)
    command_alert_after_attempts: int = Field(default=10, ge=1, description="Flag a call as stuck after this many.")
    command_lease_seconds: float = Field(default=60.0, gt=0, description="One replica owns a call this long.")
    tracking_scan_seconds: float = Field(
        default=60.0, gt=0, description="How often silent and late shipments are looked for."
    )
    silence_seconds: float = Field(
        default=6 * 3600.0, gt=0, description="Poll the carrier for shipments silent this long."
    )
