"""The stored shape of a case (what the indexes, the bench and older documents rely on), with no server."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from motcua_worktime import WorkCalendar
from processing.domain.case import Actor, Case, ChainLink
from processing.store import CaseRepository

VN = ZoneInfo("Asia/Ho_Chi_Minh")
LAND, TAX = "000.00.13.H56", "000.00.45.H56"
AT = datetime(2026, 11, 25, 10, 0, tzinfo=VN)


def a_case() -> Case:
    case, _ = Case.open(
        code="000.00.06.H56-261123-0001",
        procedure={"code": "1.012753", "name": "Đăng ký đất đai", "field": "Đất đai", "version": 1},
        centre_code="000.00.06.H56",
        centre_name="Trung tâm",
        province_name=None,
        applicant_name="Nguyễn Thị Hoa",
        competent_agency=LAND,
        chain=[ChainLink(LAND, 0.75, "Văn phòng đăng ký đất đai"), ChainLink(TAX, 0.25)],
        received_at=datetime(2026, 11, 23, 9, 32, tzinfo=VN),
        clock_started_at=datetime(2026, 11, 23, 9, 32, tzinfo=VN),
        appointment_at=datetime(2026, 12, 21, 9, 32, tzinfo=VN),
        limit_working_hours=160,
        calendar=WorkCalendar(),
        now=AT,
    )
    return case


def test_a_case_is_stored_with_the_fields_the_queues_and_indexes_read_and_reads_back_the_same() -> None:
    repo = CaseRepository({"cases": None}, None)  # type: ignore[arg-type]
    case = a_case()
    officer = Actor("cv-1", "agency_officer", LAND)
    case.claim(officer, AT)
    case.record_work(officer, "Đã đo", "V/1", AT)
    doc = repo.to_document(case)
    assert doc["_id"] == case.code and doc["status"] == "open" and doc["current_step"] == 1
    assert doc["current"] == {
        "position": 1,
        "agency_code": LAND,
        "status": "assigned",
        "assignee": "cv-1",
        "due_at": case.steps[0].due_at,
        "queue": f"{LAND}:assigned",
    }
    assert doc["steps"][0]["work"] == [{"at": AT, "by": "cv-1", "note": "Đã đo", "document_ref": "V/1"}]
    assert doc["steps"][0]["agency_name"] == "Văn phòng đăng ký đất đai" and doc["steps"][1]["status"] == "waiting"
    assert doc["history"][0] == {"action": "opened", "at": AT, "by": "system", "agency": LAND}
    assert doc["history"][-1]["details"] == {"note": "Đã đo", "document_ref": "V/1"}
    assert repo.from_document(doc) == case


def test_a_document_written_before_versions_and_without_optional_fields_still_reads() -> None:
    repo = CaseRepository({"cases": None}, None)  # type: ignore[arg-type]
    due = datetime(2026, 12, 1, 9, 0, tzinfo=VN)
    old = {
        "_id": "C-1",
        "procedure": {"code": "1", "name": "n", "field": "f"},
        "centre_code": "000.00.06.H56",
        "competent_agency": LAND,
        "status": "paused_supplement",
        "current_step": 1,
        "steps": [{"position": 1, "agency_code": LAND, "due_at": due, "status": "assigned", "assignee": "cv"}],
        "received_at": due,
        "deadline_at": due,
    }
    case = repo.from_document(old)
    assert case.version == 0 and case.history == [] and case.apology is None
    assert case.queue == f"{LAND}:paused" and case.current.work == []
