"""Notify counts an SMS's parts (what it is billed) the way the gateway stand-in counts them (3GPP TS 23.038)."""

from __future__ import annotations

import pytest

from motcua_devstack.standins.sms_encoding import count_segments
from notify.domain.text import sms_segments, unaccent

TEXTS = [
    "",
    "a" * 160,
    "a" * 161,
    "€" * 80,
    "€" * 81,
    "a" * 158 + "€",
    "a" * 159 + "€",
    "a" * 152 + "€" + "a" * 152,
    "ế" * 70,
    "ế" * 71,
    "😀" * 35,
    "😀" * 36,
    "a" * 66 + "😀" + "a" * 66,
    "Ho so 000.00.06.H56-261123-0001 da duoc tiep nhan. Hen tra: 21/12/2026. Tra cuu: http://127.0.0.1:8001/lookup",
    "Hồ sơ 000.00.06.H56-261123-0001 đã được tiếp nhận. Hẹn trả: 21/12/2026.",
]


@pytest.mark.parametrize("text", [*TEXTS, *(unaccent(text) for text in TEXTS)])
def test_notify_and_the_gateway_count_the_same_parts(text: str) -> None:
    assert sms_segments(text) == count_segments(text).segments
