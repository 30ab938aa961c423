"""Fixtures shared by notify's test tiers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from motcua_kit.events import DossierReceived

LOOKUP_URL = "https://dichvucong.khanhhoa.gov.vn/tra-cuu"


def make_received(code: str = "000.00.06.H56-261123-0001", **changes: Any) -> DossierReceived:
    applicant = {
        "full_name": "Nguyễn Thị Đào",
        "id_number": "056190001234",
        "phone": "0912345678",
        "email": "dao.nguyen@example.vn",
        **changes.pop("applicant", {}),
    }
    data: dict[str, Any] = {
        "dossier_code": code,
        "centre_code": "000.00.06.H56",
        "centre_name": "Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa",
        "procedure": {"code": "1.001234", "name": "Cấp giấy phép xây dựng nhà ở riêng lẻ", "field": "Xây dựng"},
        "competent_agency": "000.00.11.H56",
        "agency_chain": [{"agency_code": "000.00.11.H56", "share": 1.0}],
        "intake_channel": 1,
        "return_channel": "counter",
        "notify_channels": ["sms", "email"],
        "applicant": applicant,
        "received_at": datetime(2026, 11, 23, 2, 15, tzinfo=UTC),
        "clock_started_at": datetime(2026, 11, 23, 2, 15, tzinfo=UTC),
        # 17:30 UTC is already the next morning in Vietnam (UTC+7).
        "appointment_at": datetime(2026, 11, 30, 17, 30, tzinfo=UTC),
        "limit_working_hours": 40,
        "lookup_url": LOOKUP_URL,
        "received_by": "counter.officer@000.00.06.H56",
        **changes,
    }
    return DossierReceived.model_validate(data)


@pytest.fixture
def received() -> Callable[..., DossierReceived]:
    """Builds a ``DossierReceived``; keyword arguments replace fields (``applicant`` is merged)."""
    return make_received
