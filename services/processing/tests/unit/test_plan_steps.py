from datetime import datetime
from zoneinfo import ZoneInfo

from motcua_worktime import WorkCalendar
from processing.domain.case import plan_steps

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def test_shares_give_each_step_its_part_and_the_last_step_the_appointment() -> None:
    calendar = WorkCalendar()
    start = datetime(2023, 10, 27, 9, 32, tzinfo=VN)
    appointment = datetime(2023, 11, 3, 9, 32, tzinfo=VN)  # 5 working days
    steps = plan_steps(
        calendar,
        clock_started_at=start,
        appointment_at=appointment,
        limit_working_hours=40,
        chain=[("A", 0.6), ("B", 0.4)],
    )
    assert [s.agency_code for s in steps] == ["A", "B"]
    assert steps[0].due_at == datetime(2023, 11, 1, 9, 32, tzinfo=VN)  # 3 working days: Fri -> Wed
    assert steps[1].due_at == appointment


def test_single_agency_step_ends_at_the_appointment() -> None:
    start = datetime(2026, 11, 23, 16, 55, tzinfo=VN)
    appointment = datetime(2026, 11, 24, 16, 55, tzinfo=VN)
    steps = plan_steps(
        WorkCalendar(), clock_started_at=start, appointment_at=appointment, limit_working_hours=8, chain=[("A", 1.0)]
    )
    assert len(steps) == 1 and steps[0].due_at == appointment and steps[0].position == 1
