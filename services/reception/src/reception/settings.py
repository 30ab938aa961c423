from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from motcua_kit.settings import ServiceSettings, service_config


class ReceptionSettings(ServiceSettings):
    model_config = service_config("RECEPTION_")
    service_name: ClassVar[str] = "reception"

    port: int = 8001
    lookup_base_url: str = "http://127.0.0.1:8001/lookup"
    lookup_per_client_per_minute: int = Field(default=30, ge=1, description="Lookups and ratings per client IP.")
    lookup_failures_per_code_per_hour: int = Field(default=10, ge=1, description="Wrong second factors per code.")
    online_submissions_per_client_per_hour: int = Field(default=20, ge=1)
