from __future__ import annotations

from typing import ClassVar

from motcua_kit.settings import ServiceSettings, service_config


class ReceptionSettings(ServiceSettings):
    model_config = service_config("RECEPTION_")
    service_name: ClassVar[str] = "reception"

    port: int = 8001
    lookup_base_url: str = "http://127.0.0.1:8001/lookup"
