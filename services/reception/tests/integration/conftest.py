"""Fixtures for reception's integration tests: the service on the real local servers, seeded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from motcua_devstack.testing import LocalStack, running_app, seed_catalogue, token
from reception.main import create_app
from reception.settings import ReceptionSettings

CENTRE = "000.00.06.H56"
OTHER_CENTRE = "000.17.22.H56"
LAND = "1.012753.000.00.00.H56"  # two-agency chain, 20 working days, postal intake and return allowed


class Reception:
    """The running service: HTTP client, settings, runtime, and staff headers."""

    def __init__(self, http: httpx.AsyncClient, app: Any, stack: LocalStack) -> None:
        self.http = http
        self.app = app
        self.stack = stack
        self.settings: ReceptionSettings = app.state.settings

    @property
    def rt(self) -> Any:
        return self.app.state.rt

    @property
    def prefix(self) -> str:
        return self.settings.kafka.topic_prefix

    def officer(self, centre: str = CENTRE, subject: str = "officer-1") -> dict[str, str]:
        return token(self.stack, "counter_officer", centre, subject)

    def staff(self, role: str, scope: str = CENTRE) -> dict[str, str]:
        return token(self.stack, role, scope)


def land_request(**overrides: Any) -> dict[str, Any]:
    procedure = next(p for p in seed_catalogue()["procedures"] if p["code"] == LAND)
    body: dict[str, Any] = {
        "procedure_code": LAND,
        "content": "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu",
        "applicant": {
            "full_name": "Nguyễn Thị Hoa",
            "id_number": "056190001234",
            "phone": "0905123456",
            "email": "hoa.nguyen@example.vn",
            "address": "12 Trần Phú, phường Nha Trang",
        },
        "documents": [
            {"name": d["name"], "originals": d["originals"], "copies": d["copies"]}
            for d in procedure["documents"]
            if d["mandatory"]
        ],
        "return_channel": "post",
        "notify_channels": ["sms", "email"],
    }
    body.update(overrides)
    return body


@pytest.fixture
def reception_env(service_env: Callable[..., str]) -> Callable[..., str]:
    """Applies the RECEPTION_ environment; extra settings as keyword arguments."""
    return lambda **extra: service_env("RECEPTION_", **extra)


@pytest.fixture
async def reception(reception_env: Callable[..., str], local_stack: LocalStack) -> AsyncIterator[Reception]:
    reception_env()
    app = create_app(ReceptionSettings())
    async with running_app(app) as http:
        r = await http.post(
            "/catalogue/import", json=seed_catalogue(), headers=token(local_stack, "centre_admin", CENTRE)
        )
        assert r.status_code == 200, r.text
        yield Reception(http, app, local_stack)
