from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from motcua_kit.settings import ServiceSettings, service_config


class ProcessingSettings(ServiceSettings):
    model_config = service_config("PROCESSING_")
    service_name: ClassVar[str] = "processing"

    port: int = 8002
    clock_interval_seconds: float = Field(default=60.0, gt=0, description="How often the deadline scan runs.")
    warn_working_hours: float = Field(default=8.0, gt=0, description="Alert this much working time before.")
