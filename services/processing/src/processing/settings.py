from __future__ import annotations

from typing import ClassVar

from motcua_kit.settings import ServiceSettings, service_config


class ProcessingSettings(ServiceSettings):
    model_config = service_config("PROCESSING_")
    service_name: ClassVar[str] = "processing"

    port: int = 8002
