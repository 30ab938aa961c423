from __future__ import annotations

from typing import ClassVar

from motcua_kit.settings import ServiceSettings, service_config


class PostalSettings(ServiceSettings):
    model_config = service_config("POSTAL_")
    service_name: ClassVar[str] = "postal"

    port: int = 8003
