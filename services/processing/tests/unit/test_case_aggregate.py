"""The Case aggregate and its transition table, with no server: every allowed transition, the refused ones."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from motcua_kit.events import (
    AgencySupplementRequested,
    ApologyIssued,
    CaseHandedOver,
    CaseOpened,
    DeadlineApproaching,
    DossierResolved,
    PaymentConfirmed,
    PaymentRequested,
    ProcessingStopped,
    StepAssigned,
    StepCompleted,
    StepOverdue,
)
from motcua_worktime import WorkCalendar
from processing.domain.case import Actor, Case, ChainLink
from processing.domain.workflow import RULES, ActionRefused, BadChange, CaseStatus, NotYours, StepStatus

VN = ZoneInfo("Asia/Ho_Chi_Minh")
LAND, TAX = "000.00.13.H56", "000.00.45.H56"
CALENDAR = WorkCalendar()
RECEIVED = datetime(2026, 11, 23, 9, 32, tzinfo=VN)
APPOINTMENT = datetime(2026, 12, 21, 9, 32, tzinfo=VN)
AT = datetime(2026, 11, 25, 10, 0, tzinfo=VN)
SUBJECT = "chuyenvien-1"


def new_case(chain: tuple[str, ...] = (LAND, TAX)) -> Case:
    shares = [0.75, 0.25] if len(chain) == 2 else [1.0 / len(chain)] * len(chain)
    case, _ = Case.open(
        code="000.00.06.H56-261123-0001",
        procedure={"code": "1.012753", "name": "Đăng ký đất đai", "field": "Đất đai", "version": 1},
        centre_code="000.00.06.H56",
        centre_name="Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa",
        province_name="Tỉnh Khánh Hòa",
        applicant_name="Nguyễn Thị Hoa",
        competent_agency=chain[0],
        chain=[ChainLink(a, s, f"Agency {a}") for a, s in zip(chain, shares, strict=True)],
        received_at=RECEIVED,
        clock_started_at=RECEIVED,
        appointment_at=APPOINTMENT,
        limit_working_hours=160,
        calendar=CALENDAR,
        now=RECEIVED,
    )
    return case


def actor(role: str = "agency_leader", agency: str = LAND, subject: str = SUBJECT) -> Actor:
    return Actor(subject=subject, role=role, agency=agency)


ACTIONS: dict[str, Callable[[Case, Actor, datetime], list[Any]]] = {
    "assign": lambda c, a, at: c.assign(a, "chuyenvien-2", at),
    "claim": lambda c, a, at: c.claim(a, at),
    "record_work": lambda c, a, at: c.record_work(a, "Đã kiểm tra hiện trạng", "VPDK/2026/1", at),
    "submit": lambda c, a, at: c.submit(a, at),
    "approve": lambda c, a, at: c.approve(a, at, CALENDAR),
    "send_back": lambda c, a, at: c.send_back(a, "Bổ sung trích đo", at),
    "hand_over": lambda c, a, at: c.hand_over(a, at),
    "resolve": lambda c, a, at: c.resolve(a, "Đã cấp giấy chứng nhận", at),
    "request_supplement": lambda c, a, at: c.request_supplement(a, ["Thiếu bản vẽ"], at),
    "request_payment": lambda c, a, at: c.request_payment(a, 100_000, "Lệ phí", at),
    "confirm_payment": lambda c, a, at: c.confirm_payment(a, at),
    "stop": lambda c, a, at: c.stop(a, "Thuộc quy hoạch", at),
}
EVENTS: dict[str, list[type]] = {
    "assign": [StepAssigned],
    "claim": [StepAssigned],
    "record_work": [],
    "submit": [],
    "approve": [StepCompleted],
    "send_back": [],
    "hand_over": [CaseHandedOver],
    "resolve": [DossierResolved],
    "request_supplement": [AgencySupplementRequested],
    "request_payment": [PaymentRequested],
    "confirm_payment": [PaymentConfirmed],
    "stop": [ProcessingStopped],
}


def in_state(action: str, case_status: CaseStatus, step_status: StepStatus) -> Case:
    """A case whose current step suits the action's position rule (resolve: the last step), in that state."""
    case = new_case()
    if action == "resolve":
        case.steps[0].status = StepStatus.DONE
        case.current_step = 2
    case.status = case_status
    case.current.status = step_status
    case.current.assignee = SUBJECT
    return case


def allowed() -> list[tuple[str, str, CaseStatus, StepStatus]]:
    return [
        (action, role, case_status, step_status)
        for action, rule in RULES.items()
        for role in sorted(rule.roles)
        for case_status in sorted(rule.case)
        for step_status in sorted(rule.step)
    ]


def refused() -> list[tuple[str, CaseStatus, StepStatus]]:
    return [
        (action, case_status, step_status)
        for action, rule in RULES.items()
        for case_status in CaseStatus
        for step_status in StepStatus
        if case_status not in rule.case or step_status not in rule.step
    ]


@pytest.mark.parametrize(("action", "role", "case_status", "step_status"), allowed())
def test_every_allowed_transition_changes_the_state_and_returns_its_events(
    action: str, role: str, case_status: CaseStatus, step_status: StepStatus
) -> None:
    case = in_state(action, case_status, step_status)
    position = case.current_step
    events = ACTIONS[action](case, actor(role, LAND if action != "resolve" else TAX), AT)
    assert [type(e) for e in events] == EVENTS[action]
    assert all(e.dossier_code == case.code for e in events)
    step = case.step_at(position)
    expected_step = {
        "assign": StepStatus.ASSIGNED,
        "claim": StepStatus.ASSIGNED,
        "submit": StepStatus.SUBMITTED,
        "approve": StepStatus.APPROVED,
        "send_back": StepStatus.ASSIGNED,
        "hand_over": StepStatus.DONE,
        "resolve": StepStatus.DONE,
    }.get(action, step_status)
    assert step.status == expected_step
    expected_case = {
        "resolve": CaseStatus.RESOLVED,
        "request_supplement": CaseStatus.PAUSED,
        "request_payment": CaseStatus.AWAITING_PAYMENT,
        "confirm_payment": CaseStatus.OPEN,
        "stop": CaseStatus.STOPPED,
    }.get(action, case_status)
    assert case.status == expected_case
    assert case.history[-1].action == action and case.history[-1].at == AT


@pytest.mark.parametrize(("action", "case_status", "step_status"), refused())
def test_a_case_or_step_state_the_table_does_not_allow_is_refused_and_changes_nothing(
    action: str, case_status: CaseStatus, step_status: StepStatus
) -> None:
    case = in_state(action, case_status, step_status)
    before = copy.deepcopy(case)
    with pytest.raises(ActionRefused) as refusal:
        ACTIONS[action](case, actor("agency_leader", LAND if action != "resolve" else TAX), AT)
    assert refusal.value.code == "illegal_transition"
    assert case == before


@pytest.mark.parametrize(
    ("action", "who", "error", "needle"),
    [
        ("assign", actor("agency_officer"), NotYours, "may not assign"),
        ("approve", actor("agency_officer"), NotYours, "may not approve"),
        ("claim", actor("agency_officer", TAX), NotYours, "not yours"),
        ("claim", actor("auditor"), NotYours, "may not claim"),
        ("stop", actor("agency_officer"), NotYours, "may not stop"),
    ],
)
def test_the_wrong_role_or_agency_is_told_it_is_not_theirs(
    action: str, who: Actor, error: type[Exception], needle: str
) -> None:
    case = new_case()
    with pytest.raises(error, match=needle):
        ACTIONS[action](case, who, AT)


def test_only_the_assignee_works_and_submits_the_step() -> None:
    case = new_case()
    case.claim(actor("agency_officer", subject="cv-1"), AT)
    with pytest.raises(ActionRefused, match="assigned to someone else"):
        case.submit(actor("agency_officer", subject="cv-2"), AT)
    with pytest.raises(ActionRefused, match="assigned to someone else"):
        case.record_work(actor("agency_leader"), "note", None, AT)


def test_hand_over_needs_a_next_agency_and_resolve_the_last_one() -> None:
    case = new_case()
    case.current.status = StepStatus.APPROVED
    with pytest.raises(ActionRefused, match="hand it over"):
        case.resolve(actor(), "Kết quả", AT)
    single = new_case((LAND,))
    single.current.status = StepStatus.APPROVED
    with pytest.raises(ActionRefused, match="no next agency"):
        single.hand_over(actor(), AT)


def test_opening_plans_a_deadline_per_step_and_says_so() -> None:
    case, events = Case.open(
        code="C-1",
        procedure={"code": "1", "name": "n", "field": "f"},
        centre_code="000.00.06.H56",
        centre_name=None,
        province_name=None,
        applicant_name=None,
        competent_agency=LAND,
        chain=[ChainLink(LAND, 0.75), ChainLink(TAX, 0.25)],
        received_at=RECEIVED,
        clock_started_at=RECEIVED,
        appointment_at=APPOINTMENT,
        limit_working_hours=160,
        calendar=CALENDAR,
        now=RECEIVED,
    )
    assert [(s.agency_code, s.status) for s in case.steps] == [(LAND, StepStatus.NEW), (TAX, StepStatus.WAITING)]
    # 120 working hours from Mon 23/11/2026 09:32, Tue 24/11 off (Vietnam Culture Day): Tue 15/12 09:32.
    assert case.steps[0].due_at == datetime(2026, 12, 15, 9, 32, tzinfo=VN)
    assert case.steps[1].due_at == APPOINTMENT and case.deadline_at == APPOINTMENT
    assert case.queue == f"{LAND}:new" and case.steps[0].started_at == RECEIVED
    assert [type(e) for e in events] == [CaseOpened]
    assert [s.due_at for s in events[0].steps] == [s.due_at for s in case.steps]
    with pytest.raises(BadChange):
        Case.open(**{**_open_args(), "chain": []})


def _open_args() -> dict[str, Any]:
    return {
        "code": "C-2",
        "procedure": {"code": "1", "name": "n", "field": "f"},
        "centre_code": "c",
        "centre_name": None,
        "province_name": None,
        "applicant_name": None,
        "competent_agency": LAND,
        "chain": [ChainLink(LAND, 1.0)],
        "received_at": RECEIVED,
        "clock_started_at": RECEIVED,
        "appointment_at": APPOINTMENT,
        "limit_working_hours": 160,
        "calendar": CALENDAR,
        "now": RECEIVED,
    }


def test_a_chain_walked_to_the_end_moves_the_queue_and_keeps_the_details() -> None:
    case = new_case()
    officer, leader = actor("agency_officer"), actor()
    tax_officer, tax_leader = actor("agency_officer", TAX, "cv-9"), actor("agency_leader", TAX)
    case.claim(officer, AT)
    assert case.queue == f"{LAND}:assigned"
    case.record_work(officer, "Đã đo đạc", "VPDK/1", AT)
    case.submit(officer, AT)
    assert case.queue == f"{LAND}:submitted"
    [completed] = case.approve(leader, AT, CALENDAR)
    assert completed.result == "early" and case.steps[0].result == "early"
    assert case.steps[0].working_hours == round(CALENDAR.working_time_between(RECEIVED, AT).total_seconds() / 3600, 2)
    [moved] = case.hand_over(leader, AT + timedelta(hours=1))
    assert (moved.from_agency, moved.to_agency, case.current_step, case.queue) == (LAND, TAX, 2, f"{TAX}:new")
    assert case.steps[1].started_at == AT + timedelta(hours=1)
    case.claim(tax_officer, AT)
    case.record_work(tax_officer, "Đã tính thuế", "THUE/7", AT)
    case.submit(tax_officer, AT)
    case.approve(tax_leader, AT, CALENDAR)
    [resolved] = case.resolve(tax_leader, "Đã cấp giấy", AT)
    assert resolved.result_document_ref == "THUE/7" and resolved.result_summary == "Đã cấp giấy"
    assert case.status == CaseStatus.RESOLVED and case.queue is None and case.resolved_at == AT
    assert [h.action for h in case.history] == [
        "opened",
        "claim",
        "record_work",
        "submit",
        "approve",
        "hand_over",
        "claim",
        "record_work",
        "submit",
        "approve",
        "resolve",
    ]
    assert case.history[2].details == {"note": "Đã đo đạc", "document_ref": "VPDK/1"}


def test_a_supplement_pauses_then_moves_every_open_deadline_by_the_paused_working_time() -> None:
    case = new_case()
    case.claim(actor("agency_officer"), AT)
    case.request_supplement(actor("agency_officer"), ["Thiếu bản vẽ"], AT)
    assert case.status == CaseStatus.PAUSED and case.paused_at == AT and case.queue == f"{LAND}:paused"
    before = [s.due_at for s in case.steps]
    case.resume_after_supplement(
        received_at=AT + timedelta(days=7),
        received_by="officer-1",
        paused_working_hours=16,
        appointment_at=None,
        calendar=CALENDAR,
    )
    assert case.status == CaseStatus.OPEN and case.paused_at is None
    assert [s.due_at for s in case.steps] == [CALENDAR.add_working_time(d, timedelta(hours=16)) for d in before]
    assert case.history[-1].details == {"paused_working_hours": 16}
    with pytest.raises(ActionRefused, match="not waiting for a supplement"):
        case.resume_after_supplement(
            received_at=AT, received_by="x", paused_working_hours=1, appointment_at=None, calendar=CALENDAR
        )


def test_a_new_appointment_from_reception_becomes_the_deadline_of_the_last_step() -> None:
    case = new_case()
    case.status = CaseStatus.PAUSED
    later = APPOINTMENT + timedelta(days=3)
    case.resume_after_supplement(
        received_at=AT, received_by="o", paused_working_hours=8, appointment_at=later, calendar=CALENDAR
    )
    assert case.deadline_at == later and case.steps[-1].due_at == later


def test_withdrawal_closes_an_open_case_once() -> None:
    case = new_case()
    assert case.withdraw(reason="Công dân rút", at=AT, by="officer-1") == []
    assert case.status == CaseStatus.WITHDRAWN and case.queue is None
    assert case.history[-1].details == {"reason": "Công dân rút"}
    with pytest.raises(ActionRefused):
        case.withdraw(reason="again", at=AT, by="officer-1")


def test_alerts_are_raised_once_each() -> None:
    case = new_case()
    due = case.current.due_at
    # Within the window of the step's deadline: one alert for the step.
    first = case.raise_alerts(due - timedelta(hours=1), due + timedelta(hours=1))
    assert [(type(e), e.position) for e in first] == [(DeadlineApproaching, 1)]
    assert case.raise_alerts(due - timedelta(hours=1), due + timedelta(hours=1)) == []
    # Past it: overdue, once; the dossier's own deadline in the window: once.
    late = case.raise_alerts(due + timedelta(hours=1), APPOINTMENT + timedelta(hours=1))
    assert [(type(e), e.position) for e in late] == [(StepOverdue, 1), (DeadlineApproaching, None)]
    assert case.raise_alerts(due + timedelta(hours=2), APPOINTMENT + timedelta(hours=1)) == []
    assert case.alerts == ["approaching:1", "overdue:1", "approaching:case"]


def test_no_alert_for_a_paused_or_closed_case() -> None:
    case = new_case()
    case.status = CaseStatus.PAUSED
    assert case.pending_alerts(APPOINTMENT + timedelta(days=1), APPOINTMENT + timedelta(days=2)) == []
    case.status = CaseStatus.RESOLVED
    assert case.pending_alerts(APPOINTMENT + timedelta(days=1), APPOINTMENT + timedelta(days=2)) == []


def test_an_apology_moves_the_deadline_once_and_only_in_time() -> None:
    case = new_case()
    leader = actor()
    new_date = APPOINTMENT + timedelta(days=7)
    with pytest.raises(NotYours):
        case.apologise(actor("agency_officer"), reason="r", new_appointment_at=new_date, at=AT, calendar=CALENDAR)
    with pytest.raises(NotYours, match="its leader apologises"):
        case.apologise(actor(agency=TAX), reason="r", new_appointment_at=new_date, at=AT, calendar=CALENDAR)
    with pytest.raises(BadChange):
        case.apologise(leader, reason="r", new_appointment_at=APPOINTMENT, at=AT, calendar=CALENDAR)
    with pytest.raises(ActionRefused) as late:
        case.apologise(
            leader, reason="r", new_appointment_at=new_date, at=APPOINTMENT - timedelta(hours=2), calendar=CALENDAR
        )
    assert late.value.code == "apology_too_late"
    [issued] = case.apologise(leader, reason="Cần xác minh", new_appointment_at=new_date, at=AT, calendar=CALENDAR)
    assert isinstance(issued, ApologyIssued) and issued.previous_appointment_at == APPOINTMENT
    assert case.deadline_at == new_date and case.steps[-1].due_at == new_date
    assert case.apology is not None and case.apology.previous_appointment_at == APPOINTMENT
    with pytest.raises(ActionRefused) as again:
        case.apologise(leader, reason="r", new_appointment_at=new_date + timedelta(days=1), at=AT, calendar=CALENDAR)
    assert again.value.code == "apology_exists"
    stopped = new_case()
    stopped.status = CaseStatus.STOPPED
    with pytest.raises(ActionRefused, match="stopped"):
        stopped.apologise(leader, reason="r", new_appointment_at=new_date, at=AT, calendar=CALENDAR)


def test_auditors_see_every_case_agencies_only_their_chain() -> None:
    case = new_case()
    assert case.visible_to(actor("auditor", "H56"))
    assert case.visible_to(actor("agency_officer", TAX))
    assert not case.visible_to(actor("agency_officer", "000.00.41.H56"))
