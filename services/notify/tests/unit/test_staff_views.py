"""The staff views' pure parts: period checks, scope, totals by local day, the CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from motcua_kit.auth import Principal, Role
from motcua_kit.errors import Forbidden, Invalid
from motcua_kit.values import ReportPeriod
from notify.service.views import NotificationTotals, TotalsPeriod, delivered_at, scoped_centre, totals_csv

check_period = ReportPeriod.checked

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def who(role: Role, scope: str = "000.00.06.H56") -> Principal:
    return Principal(subject="s", role=role, scope=scope)


def test_a_period_runs_forwards_and_covers_at_most_366_days() -> None:
    check_period(date(2024, 1, 1), date(2024, 12, 31))
    check_period(date(2026, 11, 20), date(2026, 11, 20))
    with pytest.raises(Invalid) as reversed_:
        check_period(date(2026, 11, 21), date(2026, 11, 20))
    with pytest.raises(Invalid) as too_long:
        check_period(date(2025, 1, 1), date(2026, 1, 2))
    assert reversed_.value.code == "period_reversed" and too_long.value.code == "period_too_long"


def test_centre_staff_see_their_centre_and_auditors_any() -> None:
    assert scoped_centre(who(Role.COUNTER_OFFICER), None) == "000.00.06.H56"
    assert scoped_centre(who(Role.CENTRE_ADMIN), "000.00.06.H56") == "000.00.06.H56"
    assert scoped_centre(who(Role.AUDITOR, "province"), None) is None
    assert scoped_centre(who(Role.AUDITOR, "province"), "000.17.22.H56") == "000.17.22.H56"
    with pytest.raises(Forbidden):
        scoped_centre(who(Role.COUNTER_OFFICER), "000.17.22.H56")
    with pytest.raises(Forbidden):
        scoped_centre(who(Role.AGENCY_OFFICER), None)


def test_days_are_local_and_unknown_statuses_are_counted_as_they_are() -> None:
    period = TotalsPeriod(ReportPeriod(date(2026, 11, 20), date(2026, 11, 21)), VN)
    assert period.start == datetime(2026, 11, 19, 17, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 21, 17, tzinfo=UTC)
    totals = NotificationTotals(period=period, centre_code=None)
    totals.add({"created_at": datetime(2026, 11, 20, 16, 59, tzinfo=UTC), "channel": "sms", "status": "sent"})
    totals.add({"created_at": datetime(2026, 11, 20, 17, 0, tzinfo=UTC), "channel": "sms", "status": "some_new_status"})
    assert totals.by(0) == {"2026-11-20": 1, "2026-11-21": 1}
    assert totals.by(2) == {"sent": 1, "some_new_status": 1}
    assert totals.by(3) == {"none": 2}
    csv_text = totals_csv(totals)
    assert csv_text.startswith("\ufeffNgày,Kênh,Trạng thái,Nhà cung cấp,Số thông báo\r\n")
    assert csv_text.endswith("Tổng cộng,,,,2\r\n")


def test_delivered_time_is_the_stored_one_else_the_receipt_in_the_history() -> None:
    at = datetime(2026, 11, 20, 3, tzinfo=UTC)
    assert delivered_at({"delivered_at": at, "history": []}) == at
    assert delivered_at({"history": [{"status": "sent", "at": 1}, {"status": "delivered", "at": at}]}) == at
    assert delivered_at({"history": [{"status": "sent", "at": at}]}) is None
