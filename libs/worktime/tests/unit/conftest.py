from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from motcua_worktime import WorkCalendar

VN = ZoneInfo("Asia/Ho_Chi_Minh")

At = Callable[..., datetime]


def _at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN)


@pytest.fixture
def at() -> At:
    """``at(2023, 10, 27, 9, 32)`` -> aware datetime in Asia/Ho_Chi_Minh."""
    return _at


@pytest.fixture
def cal() -> WorkCalendar:
    """The national default calendar: 07:00-11:30, 13:30-17:00, Mon-Fri, VN holidays."""
    return WorkCalendar()
