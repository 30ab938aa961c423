"""The Dossier aggregate's transitions: each checks its rule, changes the state, returns its events. No server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from motcua_devstack.testing import seed_catalogue
from motcua_kit.events import (
    AgencySupplementRequested,
    CaseOpened,
    DossierRated,
    DossierReceived,
    DossierRefused,
    DossierResolved,
    DossierSubmitted,
    DossierWithdrawn,
    NotificationSent,
    ResultDelivered,
    ResultReturned,
    SupplementReceived,
    SupplementRequested,
)
from motcua_kit.events.processing import CaseStep
from motcua_worktime import WorkCalendar
from reception import store
from reception.domain.catalogue import CatalogueImport, Procedure
from reception.domain.dossier import (
    ApplicantInfo,
    Dossier,
    DossierDraft,
    DossierRuleError,
    Incomplete,
    Status,
    SubmittedDocument,
    TransitionRefused,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CATALOGUE = CatalogueImport.model_validate(seed_catalogue())
CALENDAR = WorkCalendar.from_config(CATALOGUE.calendar_config())
LAND = next(p for p in CATALOGUE.procedures if p.code == "1.012753.000.00.00.H56")
CENTRE = "000.00.06.H56"
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=VN)


def complete(procedure: Procedure) -> tuple[SubmittedDocument, ...]:
    return tuple(SubmittedDocument(d.name, d.originals, d.copies) for d in procedure.documents if d.mandatory)


def new(channel: int = 1, documents: tuple[SubmittedDocument, ...] | None = None, **draft: Any) -> Dossier:
    return Dossier.register(
        code=f"{CENTRE}-261123-0001",
        centre_code=CENTRE,
        centre_name="Trung tâm tỉnh",
        procedure=LAND,
        procedure_version=3,
        draft=DossierDraft(
            procedure_code=LAND.code,
            applicant=ApplicantInfo("Nguyễn Thị Hoa", phone="0905123456"),
            documents=complete(LAND) if documents is None else documents,
            **draft,
        ),
        channel=channel,
        at=MONDAY,
        by="officer-1" if channel == 1 else "citizen",
        by_name="Phạm Thị Lan" if channel == 1 else None,
        lookup_base_url="http://x/lookup",
        lookup_code="K7M2Q9XA",
        agency_names={LAND.agency_chain[0]: "Sở Nông nghiệp và Môi trường"},
    )


def received() -> Dossier:
    dossier = new()
    dossier.decide("receive", [], at=MONDAY, by="officer-1", calendar=CALENDAR)
    return dossier


def test_a_new_dossier_waits_in_status_1_with_no_history() -> None:
    dossier = new()
    assert dossier.status == Status.SUBMITTED and dossier.history == []
    assert dossier.procedure.version == 3 and dossier.search_name == "nguyen thi hoa"
    assert dossier.agency_chain[0].agency_name == "Sở Nông nghiệp và Môi trường"
    assert dossier.lookup_url == f"http://x/lookup?code={dossier.code}" and dossier.received_by == "officer-1"


def test_receiving_starts_the_clock_and_fixes_the_appointment() -> None:
    dossier = new()
    events = dossier.decide("receive", [], at=MONDAY, by="officer-1", calendar=CALENDAR)
    assert [type(e) for e in events] == [DossierReceived]
    event = events[0]
    assert isinstance(event, DossierReceived)
    assert dossier.status == Status.RECEIVED and dossier.received_at == MONDAY
    assert dossier.appointment_at == dossier.original_appointment_at == event.appointment_at
    assert dossier.limit_working_hours == 160.0 and event.limit_working_hours == 160.0
    assert event.agency_chain[0].agency_name == "Sở Nông nghiệp và Môi trường"
    assert [(h.status, h.note) for h in dossier.history] == [(2, "Tiếp nhận hồ sơ tại quầy")]


def test_a_dossier_missing_papers_cannot_be_received() -> None:
    dossier = new(documents=())
    with pytest.raises(Incomplete) as refused:
        dossier.accept(at=MONDAY, by="officer-1", calendar=CALENDAR)
    assert refused.value.code == "missing_documents" and refused.value.problems
    assert dossier.status == Status.SUBMITTED and dossier.history == []


def test_online_submission_then_acceptance_later() -> None:
    dossier = new(channel=2)
    submitted = dossier.decide("submit", [], at=MONDAY, by="citizen", calendar=CALENDAR)
    assert [type(e) for e in submitted] == [DossierSubmitted]
    assert dossier.history[0].note == "Nộp hồ sơ trực tuyến" and dossier.submitted_at == MONDAY
    later = MONDAY + timedelta(hours=3)
    accepted = dossier.accept(at=later, by="officer-2", calendar=CALENDAR)
    assert [type(e) for e in accepted] == [DossierReceived]
    assert dossier.received_at == later and dossier.received_by == "officer-2"
    with pytest.raises(TransitionRefused, match="status 2"):
        dossier.accept(at=later, by="officer-2", calendar=CALENDAR)


def test_a_postal_dossier_counts_from_the_signed_hand_over() -> None:
    dossier = new(channel=3)
    dossier.decide("submit", ["cần kiểm tra"], at=MONDAY, by="postal:bd-1", calendar=CALENDAR)
    assert "cần cán bộ kiểm tra (cần kiểm tra)" in (dossier.history[0].note or "")
    dossier.accept(at=MONDAY + timedelta(days=1), by="officer-1", calendar=CALENDAR)
    assert dossier.received_at == MONDAY


def test_supplement_before_receipt_then_the_complete_dossier_is_received() -> None:
    dossier = new(documents=())
    events = dossier.decide("request_supplement", ["Thiếu đơn"], at=MONDAY, by="officer-1", calendar=CALENDAR)
    assert isinstance(events[0], SupplementRequested) and events[0].clock_paused is False
    assert dossier.status == Status.SUPPLEMENT_REQUESTED and dossier.paused_at is None
    with pytest.raises(Incomplete, match="still leaves"):
        dossier.receive_supplement([], note=None, at=MONDAY, by="officer-1", calendar=CALENDAR)
    assert dossier.documents == []  # nothing changed by the refused attempt
    later = MONDAY + timedelta(hours=1)
    events = dossier.receive_supplement(list(complete(LAND)), note=None, at=later, by="officer-1", calendar=CALENDAR)
    assert [type(e) for e in events] == [SupplementReceived, DossierReceived]
    assert dossier.status == Status.RECEIVED and dossier.received_at == later
    assert dossier.supplement_requests[-1].resumed_at == later


def test_a_supplement_pause_moves_the_appointment_by_the_paused_working_time() -> None:
    dossier = new()
    dossier.decide("receive", [], at=datetime(2026, 12, 4, 9, 32, tzinfo=VN), by="officer-1", calendar=CALENDAR)
    appointment = dossier.appointment_at
    assert appointment is not None
    events = dossier.request_supplement(["Bản sao mờ"], at=datetime(2026, 12, 7, 10, tzinfo=VN), by="officer-1")
    assert isinstance(events[0], SupplementRequested) and events[0].clock_paused is True
    assert dossier.paused_at is not None
    events = dossier.receive_supplement(
        [SubmittedDocument("Bản sao sổ hộ khẩu", 0, 1)],
        note=None,
        at=datetime(2026, 12, 9, 10, tzinfo=VN),
        by="officer-1",
        calendar=CALENDAR,
    )
    assert [type(e) for e in events] == [SupplementReceived]
    event = events[0]
    assert isinstance(event, SupplementReceived) and event.paused_working_hours == 16.0
    assert dossier.paused_working_hours == pytest.approx(16.0) and dossier.paused_at is None
    assert dossier.appointment_at == datetime(2027, 1, 6, 9, 32, tzinfo=VN)
    assert dossier.status == Status.RECEIVED and "ngày hẹn trả mới" in (dossier.history[-1].note or "")


def test_refusal_only_before_receipt() -> None:
    dossier = new()
    events = dossier.refuse(["Không thuộc thẩm quyền"], at=MONDAY, by="officer-1")
    assert [type(e) for e in events] == [DossierRefused]
    assert dossier.status == Status.REFUSED and dossier.refusal_reasons == ["Không thuộc thẩm quyền"]
    assert dossier.refused_at == MONDAY
    with pytest.raises(TransitionRefused, match="cannot refuse"):
        received().refuse(["x"], at=MONDAY, by="officer-1")


def test_a_received_dossier_waiting_for_a_supplement_is_not_refused_at_the_counter() -> None:
    dossier = received()
    dossier.request_supplement(["Bản sao mờ"], at=MONDAY + timedelta(hours=1), by="officer-1")
    with pytest.raises(TransitionRefused, match="already received"):
        dossier.refuse(["x"], at=MONDAY + timedelta(hours=2), by="officer-1")


def test_withdrawal_of_an_open_dossier_once() -> None:
    dossier = received()
    events = dossier.withdraw("Công dân xin rút", at=MONDAY + timedelta(hours=1), by="officer-1")
    assert [type(e) for e in events] == [DossierWithdrawn]
    assert dossier.status == Status.WITHDRAWN and dossier.withdrawn_at == MONDAY + timedelta(hours=1)
    with pytest.raises(TransitionRefused):
        dossier.withdraw("again", at=MONDAY + timedelta(hours=2), by="officer-1")


def test_the_other_services_move_the_status_only_forward() -> None:
    dossier = received()
    at = dossier.received_at
    assert at is not None
    resolved = DossierResolved(
        dossier_code=dossier.code,
        agency_code="000.00.45.H56",
        resolved_at=at + timedelta(days=3),
        resolved_by="leader-1",
        result_summary="Đã cấp",
    )
    assert dossier.follow(resolved) == []
    assert dossier.status == Status.RESOLVED and dossier.resolved_at == at + timedelta(days=3)
    opened = CaseOpened(
        dossier_code=dossier.code, steps=[CaseStep(position=1, agency_code="000.00.13.H56", due_at=at)], deadline_at=at
    )
    dossier.follow(opened)  # read late: into the history at its time, the status stays
    assert dossier.status == Status.RESOLVED
    assert [h.event for h in dossier.history] == [None, "CaseOpened", "DossierResolved"]
    assert [h.at for h in dossier.history] == sorted(h.at for h in dossier.history)
    dossier.follow(
        NotificationSent(
            dossier_code=dossier.code,
            notification_id="n1",
            trigger_event_type="DossierReceived",
            channel="sms",
            provider="sms",
            sent_at=at + timedelta(days=4),
        )
    )
    assert dossier.history[-1].note == "Đã gửi SMS cho công dân" and dossier.status == Status.RESOLVED


def test_delivery_by_post_returns_the_result_once() -> None:
    dossier = received()
    delivered = ResultDelivered(
        dossier_code=dossier.code,
        tracking_number="EB1VN",
        delivered_at=MONDAY + timedelta(days=9),
        recipient_checked=True,
    )
    events = dossier.follow(delivered)
    assert [type(e) for e in events] == [ResultReturned]
    assert isinstance(events[0], ResultReturned) and events[0].channel == "post"
    assert dossier.status == Status.RETURNED
    assert dossier.follow(delivered) == []  # a second delivery report publishes nothing more


def test_an_agency_supplement_pauses_only_a_dossier_being_processed() -> None:
    dossier = received()
    asked = AgencySupplementRequested(
        dossier_code=dossier.code,
        agency_code="000.00.13.H56",
        position=1,
        reasons=["Thiếu trích lục"],
        requested_at=MONDAY + timedelta(days=1),
        requested_by="expert-1",
    )
    dossier.follow(asked)
    assert dossier.status == Status.SUPPLEMENT_REQUESTED and dossier.paused_at == asked.requested_at
    assert dossier.supplement_requests[-1].origin == "agency"
    refused = new()
    refused.refuse(["x"], at=MONDAY, by="officer-1")
    refused.follow(asked)
    assert refused.status == Status.REFUSED and refused.supplement_requests == []
    assert refused.history[-1].note == "Cơ quan yêu cầu bổ sung (không áp dụng)"


def test_counter_return_then_one_rating() -> None:
    dossier = received()
    with pytest.raises(DossierRuleError) as early:
        dossier.rate("satisfied", {}, at=MONDAY)
    assert early.value.code == "not_returned"
    with pytest.raises(TransitionRefused):
        dossier.return_at_counter(recipient_name=None, note=None, at=MONDAY, by="officer-1")
    dossier.follow(
        DossierResolved(
            dossier_code=dossier.code,
            agency_code="a",
            resolved_at=MONDAY + timedelta(days=2),
            resolved_by="l",
            result_summary="ok",
        )
    )
    events = dossier.return_at_counter(recipient_name="Hoa", note=None, at=MONDAY + timedelta(days=3), by="officer-1")
    assert [type(e) for e in events] == [ResultReturned] and dossier.status == Status.RETURNED
    assert dossier.history[-1].note == "Trả kết quả tại quầy cho Hoa"
    rated = dossier.rate("very_satisfied", {"time": "satisfied"}, at=MONDAY + timedelta(days=4))
    assert isinstance(rated[0], DossierRated) and rated[0].criteria == {"time": "satisfied"}
    with pytest.raises(DossierRuleError) as twice:
        dossier.rate("satisfied", {}, at=MONDAY + timedelta(days=5))
    assert twice.value.code == "already_rated"


def test_sms_needs_a_mobile_number() -> None:
    draft = DossierDraft(
        procedure_code=LAND.code,
        applicant=ApplicantInfo("Lê Văn An", phone="02583568686"),
        documents=complete(LAND),
        notify_channels=("sms",),
    )
    assert [code for code, _ in draft.problems(LAND, channel=1)] == ["missing_contact"]


def test_the_document_mapping_round_trips() -> None:
    dossier = received()
    dossier.follow(
        DossierResolved(
            dossier_code=dossier.code,
            agency_code="a",
            resolved_at=MONDAY + timedelta(days=2),
            resolved_by="l",
            result_summary="ok",
        )
    )
    doc = store.document_of(dossier)
    assert doc["_id"] == dossier.code and doc["status"] == 9 and "pickup_id" not in doc and "rating" not in doc
    assert doc["history"][0] == {
        "status": 2,
        "at": MONDAY,
        "by": "officer-1",
        "agency": CENTRE,
        "note": "Tiếp nhận hồ sơ tại quầy",
    }
    assert doc["history"][1]["event"] == "DossierResolved"
    back = store.dossier_of({**doc, "legacy_field": 1})
    assert store.document_of(back) == {**doc, "legacy_field": 1}  # unknown stored fields are kept
    assert back.appointment_at is not None and back.appointment_at.tzinfo is not None
    assert back.received_at == MONDAY.astimezone(UTC)
