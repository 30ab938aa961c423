from datetime import UTC, datetime

import pytest

from processing.domain.performance import StepFact, build, to_csv

START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
IN, BEFORE = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 10, 10, tzinfo=UTC)


def fact(agency: str, **kw: object) -> StepFact:
    base: dict[str, object] = dict(
        agency=agency,
        field="Đất đai",
        procedure="1.012753",
        completed_at=None,
        result=None,
        working_hours=None,
        open_now=False,
        overdue_now=False,
    )
    return StepFact(**(base | kw))  # type: ignore[arg-type]


def test_counts_results_in_the_period_averages_and_backlog() -> None:
    rows = build(
        [
            fact("A", completed_at=IN, result="early", working_hours=10),
            fact("A", completed_at=IN, result="late", working_hours=30),
            fact("A", completed_at=BEFORE, result="on_time", working_hours=5),  # outside the period
            fact("A", open_now=True, overdue_now=True),
            fact("B", completed_at=IN, result="on_time", working_hours=8),
            fact("B", open_now=True),
        ],
        by="agency",
        start=START,
        end=END,
    )
    a, b, total = (r.as_dict() for r in rows)
    assert a == {
        "key": "A",
        "handled": 2,
        "early": 1,
        "on_time": 0,
        "late": 1,
        "on_time_rate": 0.5,
        "average_working_hours": 20.0,
        "backlog": 1,
        "overdue": 1,
    }
    assert b["handled"] == 1 and b["on_time_rate"] == 1.0 and b["backlog"] == 1 and b["overdue"] == 0
    assert total["key"] == "total" and total["handled"] == 3 and total["backlog"] == 2
    assert total["average_working_hours"] == pytest.approx(16.0)


def test_empty_groups_have_no_rates_and_csv_is_vietnamese() -> None:
    rows = build([fact("A", open_now=True)], by="field", start=START, end=END)
    assert rows[0].key == "Đất đai" and rows[0].on_time_rate is None and rows[0].average_working_hours is None
    text = to_csv(rows)
    assert text.startswith("\ufeffNhóm,Số bước đã xử lý") and "Đất đai,0,0,0,0,,,1,0" in text
    with pytest.raises(ValueError, match="by must be one of"):
        build([], by="centre", start=START, end=END)
