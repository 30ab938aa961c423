"""Processing's use cases on the kit's fake unit of work and in-memory repositories (no servers)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY

from motcua_devstack.testing import sample_dossier_received
from motcua_kit.errors import Conflict, Forbidden, Invalid, NotFound
from motcua_kit.events import (
    AgencySupplementRequested,
    ApologyIssued,
    CalendarChanged,
    CaseHandedOver,
    CaseOpened,
    DeadlineApproaching,
    DossierResolved,
    StepAssigned,
    StepCompleted,
    StepOverdue,
)
from motcua_kit.values import ReportPeriod
from motcua_worktime import WorkCalendar
from processing.consumers import open_case_command
from processing.domain.case import Actor, Case
from processing.domain.workflow import CaseStatus, StepStatus
from processing.service import actions
from processing.service.apology import IssueApology, apology_document, issue_apology
from processing.service.cases import (
    KeepCalendar,
    ResumeAfterSupplement,
    WithdrawCase,
    keep_calendar,
    open_case,
    resume_after_supplement,
    withdraw_case,
)
from processing.service.clock import ScanDeadlines, scan_deadlines
from processing.service.reports import PerformanceQuery, performance
from processing.service.views import audit_trail, get_case, process_slip, process_slip_document

VN = ZoneInfo("Asia/Ho_Chi_Minh")
LAND, TAX = "000.00.13.H56", "000.00.45.H56"
LAND_LEADER = Actor("lanhdao-1", "agency_leader", LAND)
LAND_OFFICER = Actor("chuyenvien-1", "agency_officer", LAND)
TAX_LEADER = Actor("lanhdao-9", "agency_leader", TAX)
TAX_OFFICER = Actor("chuyenvien-9", "agency_officer", TAX)
AT = datetime(2026, 11, 25, 10, 0, tzinfo=VN)


async def opened(uow: Any, **fields: Any) -> Case:
    return await open_case(open_case_command(sample_dossier_received(**fields)), uow)


def stored(uow: Any, code: str) -> Case:
    case = uow.repos.cases.items[code]
    assert isinstance(case, Case)
    return case


def counted(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_received_dossier_opens_a_case_and_publishes_case_opened(uow: Any) -> None:
    event = sample_dossier_received()
    before = counted("processing_cases_opened_total", {"agency": LAND})
    case = await open_case(open_case_command(event), uow)
    saved = stored(uow, event.dossier_code)
    assert saved.version == 1 and saved.status == CaseStatus.OPEN
    assert [(s.agency_code, s.status) for s in saved.steps] == [(LAND, StepStatus.NEW), (TAX, StepStatus.WAITING)]
    # 75% of 160 working hours after Mon 23/11/2026 09:32, Tue 24/11 a day off: Tue 15/12/2026 09:32.
    assert saved.steps[0].due_at == datetime(2026, 12, 15, 9, 32, tzinfo=VN)
    assert saved.steps[1].due_at == event.appointment_at == saved.deadline_at
    assert saved.applicant_name == "Nguyễn Thị Hoa" and saved.procedure["field"] == "Đất đai"
    [published] = uow.events_of(CaseOpened)
    assert published.dossier_code == case.code and published.deadline_at == event.appointment_at
    assert uow.committed == 1
    assert counted("processing_cases_opened_total", {"agency": LAND}) == before + 1


async def test_the_province_calendar_kept_sets_the_next_cases_deadlines(uow: Any) -> None:
    config = WorkCalendar().to_config()
    config["overrides"] = [{"date": "2026-12-08", "working": False, "reason": "Nghỉ bù"}]
    change = CalendarChanged(province_code="H56", config=config, changed_at=datetime.now(UTC))
    assert await keep_calendar(KeepCalendar(change), uow) is True
    older = CalendarChanged(province_code="H56", config={}, changed_at=change.changed_at - timedelta(days=1))
    assert await keep_calendar(KeepCalendar(older), uow) is False
    received = datetime(2026, 12, 7, 9, 0, tzinfo=VN)
    case = await opened(
        uow, received_at=received, clock_started_at=received, appointment_at=datetime(2027, 1, 5, 9, 0, tzinfo=VN)
    )
    # 120 working hours from Mon 07/12 09:00 is Mon 28/12 09:00; with Tue 08/12 off, a working day later.
    assert case.steps[0].due_at == datetime(2026, 12, 29, 9, 0, tzinfo=VN)


async def test_an_action_chain_from_received_to_resolved(uow: Any) -> None:
    code = (await opened(uow)).code
    done_before = counted("processing_steps_completed_total", {"agency": LAND, "result": "early"})
    steps: list[tuple[Any, Any]] = [
        (actions.assign_step, actions.AssignStep(code=code, actor=LAND_LEADER, assignee="chuyenvien-1", at=AT)),
        (actions.record_work, actions.RecordWork(code=code, actor=LAND_OFFICER, note="Đã đo", document_ref="V/1")),
        (actions.submit_step, actions.SubmitStep(code=code, actor=LAND_OFFICER, at=AT)),
        (actions.send_back, actions.SendBack(code=code, actor=LAND_LEADER, reason="Bổ sung trích đo", at=AT)),
        (actions.submit_step, actions.SubmitStep(code=code, actor=LAND_OFFICER, at=AT)),
        (actions.approve_step, actions.ApproveStep(code=code, actor=LAND_LEADER, at=AT)),
        (actions.hand_over, actions.HandOver(code=code, actor=LAND_LEADER, at=AT)),
        (actions.claim_step, actions.ClaimStep(code=code, actor=TAX_OFFICER, at=AT)),
        (actions.submit_step, actions.SubmitStep(code=code, actor=TAX_OFFICER, at=AT)),
        (actions.approve_step, actions.ApproveStep(code=code, actor=TAX_LEADER, at=AT)),
        (actions.resolve, actions.Resolve(code=code, actor=TAX_LEADER, summary="Đã cấp giấy", at=AT)),
    ]
    for minutes, (use_case, cmd) in enumerate(steps):
        await use_case(replace(cmd, at=AT + timedelta(minutes=minutes)), uow)
    case = stored(uow, code)
    assert case.status == CaseStatus.RESOLVED and case.version == 1 + len(steps)
    assert [s.status for s in case.steps] == [StepStatus.DONE, StepStatus.DONE]
    assert [s.result for s in case.steps] == ["early", "early"]
    assert [type(e) for e in uow.events] == [
        CaseOpened,
        StepAssigned,
        StepCompleted,
        CaseHandedOver,
        StepAssigned,
        StepCompleted,
        DossierResolved,
    ]
    [resolved] = uow.events_of(DossierResolved)
    assert resolved.result_document_ref is None  # the tax office recorded no document
    trail = await audit_trail(uow, code=code, viewer=TAX_LEADER)
    assert [(r.action, r.role, r.agency) for r in trail][:3] == [
        ("assign", "agency_leader", LAND),
        ("record_work", "agency_officer", LAND),
        ("submit", "agency_officer", LAND),
    ]
    assert len(trail) == 11 and trail[0].details == {"assignee": "chuyenvien-1"}
    assert counted("processing_steps_completed_total", {"agency": LAND, "result": "early"}) == done_before + 1


async def test_a_refused_action_commits_nothing_and_says_why(uow: Any) -> None:
    code = (await opened(uow)).code
    with pytest.raises(Conflict, match="while it is new") as refused:
        await actions.approve_step(actions.ApproveStep(code=code, actor=LAND_LEADER), uow)
    assert refused.value.code == "illegal_transition"
    with pytest.raises(Forbidden, match="not yours"):
        await actions.claim_step(actions.ClaimStep(code=code, actor=TAX_OFFICER), uow)
    with pytest.raises(NotFound):
        await actions.claim_step(actions.ClaimStep(code=code, actor=Actor("x", "agency_officer", "000.00.41.H56")), uow)
    assert uow.committed == 1 and uow.rolled_back == 3  # only the opening committed
    assert stored(uow, code).version == 1 and uow.repos.audit.rows == {}
    assert [type(e) for e in uow.events] == [CaseOpened]


async def test_a_conflicting_commit_runs_the_action_again_and_counts_it_once(uow: Any) -> None:
    code = (await opened(uow)).code
    before = counted("processing_actions_total", {"action": "claim", "agency": LAND})
    uow.fail_commits(1)
    await actions.claim_step(actions.ClaimStep(code=code, actor=LAND_OFFICER, at=AT), uow)
    assert uow.rolled_back == 1 and uow.committed == 2
    assert len(uow.events_of(StepAssigned)) == 1 and len(uow.repos.audit.rows) == 1
    assert counted("processing_actions_total", {"action": "claim", "agency": LAND}) == before + 1


async def test_a_supplement_pauses_the_case_and_its_arrival_moves_every_open_deadline(uow: Any) -> None:
    received = datetime(2026, 12, 21, 9, 0, tzinfo=VN)
    case = await opened(
        uow, received_at=received, clock_started_at=received, appointment_at=datetime(2027, 1, 19, 9, 0, tzinfo=VN)
    )
    code = case.code
    await actions.claim_step(actions.ClaimStep(code=code, actor=LAND_OFFICER), uow)
    paused = await actions.request_supplement(
        actions.RequestSupplement(code=code, actor=LAND_OFFICER, reasons=["Thiếu bản vẽ sơ đồ thửa đất"]), uow
    )
    assert paused.status == CaseStatus.PAUSED and paused.queue == f"{LAND}:paused"
    [asked] = uow.events_of(AgencySupplementRequested)
    assert asked.reasons == ["Thiếu bản vẽ sơ đồ thửa đất"] and asked.position == 1
    with pytest.raises(Conflict):
        await actions.submit_step(actions.SubmitStep(code=code, actor=LAND_OFFICER), uow)
    new_appointment = datetime(2027, 1, 21, 9, 0, tzinfo=VN)
    resume = ResumeAfterSupplement(
        code=code,
        received_at=datetime(2027, 1, 4, 10, 0, tzinfo=VN),
        received_by="officer-1",
        paused_working_hours=16.0,
        appointment_at=new_appointment,
    )
    await resume_after_supplement(resume, uow)
    after = stored(uow, code)
    assert after.status == CaseStatus.OPEN and after.paused_at is None
    # Two working days later, skipping 1/1 and the weekend.
    assert case.steps[0].due_at == datetime(2027, 1, 12, 9, 0, tzinfo=VN)
    assert after.steps[0].due_at == datetime(2027, 1, 14, 9, 0, tzinfo=VN)
    assert after.steps[1].due_at == new_appointment == after.deadline_at
    # Told twice (a replay): the second changes nothing.
    version = after.version
    await resume_after_supplement(resume, uow)
    assert stored(uow, code).version == version
    # A supplement for a dossier processing never opened: nothing.
    assert await resume_after_supplement(ResumeAfterSupplement(**{**resume.__dict__, "code": "nope"}), uow) is None


async def test_withdrawal_closes_the_case_and_leaves_a_closed_one_alone(uow: Any) -> None:
    code = (await opened(uow)).code
    cmd = WithdrawCase(code=code, reason="Công dân rút hồ sơ", withdrawn_at=AT, recorded_by="officer-1")
    await withdraw_case(cmd, uow)
    case = stored(uow, code)
    assert case.status == CaseStatus.WITHDRAWN and case.queue is None
    assert (case.history[-1].action, case.history[-1].details) == ("withdrawn", {"reason": "Công dân rút hồ sơ"})
    await withdraw_case(cmd, uow)
    assert stored(uow, code).version == case.version
    with pytest.raises(Conflict):
        await actions.claim_step(actions.ClaimStep(code=code, actor=LAND_OFFICER), uow)
    assert [type(e) for e in uow.events] == [CaseOpened]


async def test_an_apology_is_issued_at_most_once_and_moves_the_deadline(uow: Any) -> None:
    case = await opened(uow)
    code = case.code
    new_date = case.deadline_at + timedelta(days=7)
    cmd = IssueApology(
        code=code, actor=LAND_LEADER, reason="Cần xác minh nguồn gốc đất", new_appointment_at=new_date, at=AT
    )
    with pytest.raises(Forbidden):
        await issue_apology(IssueApology(**{**cmd.__dict__, "actor": TAX_LEADER}), uow)
    with pytest.raises(Invalid):
        await issue_apology(IssueApology(**{**cmd.__dict__, "new_appointment_at": case.deadline_at}), uow)
    issued = await issue_apology(cmd, uow)
    assert issued.deadline_at == new_date == issued.steps[-1].due_at
    with pytest.raises(Conflict) as again:
        await issue_apology(cmd, uow)
    assert again.value.code == "apology_exists"
    [event] = uow.events_of(ApologyIssued)
    assert event.previous_appointment_at == case.deadline_at and event.new_appointment_at == new_date
    assert [r.action for r in await audit_trail(uow, code=code, viewer=LAND_LEADER)] == ["apology"]
    assert (await get_case(uow, code=code, viewer=LAND_LEADER)).apology is not None


async def test_an_apology_too_close_to_the_deadline_is_refused(uow: Any) -> None:
    now = datetime.now(UTC)
    case = await opened(
        uow,
        received_at=now - timedelta(days=30),
        clock_started_at=now - timedelta(days=30),
        appointment_at=now + timedelta(hours=2),
    )
    cmd = IssueApology(code=case.code, actor=LAND_LEADER, reason="Chậm", new_appointment_at=now + timedelta(days=9))
    with pytest.raises(Conflict, match="at least one working day") as late:
        await issue_apology(cmd, uow)
    assert late.value.code == "apology_too_late" and uow.events_of(ApologyIssued) == []


async def test_the_clock_publishes_each_alert_once(uow: Any) -> None:
    now = datetime.now(UTC)
    late = await opened(
        uow,
        received_at=now - timedelta(days=40),
        clock_started_at=now - timedelta(days=40),
        appointment_at=now - timedelta(days=2),
    )
    quiet = await opened(
        uow,
        received_at=now - timedelta(days=1),
        clock_started_at=now - timedelta(days=1),
        appointment_at=now + timedelta(days=40),
    )
    before = counted("processing_deadline_alerts_total", {"kind": "StepOverdue"})
    first = await scan_deadlines(ScanDeadlines(warn_working_hours=1, now=now), uow)
    again = await scan_deadlines(ScanDeadlines(warn_working_hours=1, now=now + timedelta(minutes=1)), uow)
    assert (first, again) == (1, 0)
    [overdue] = uow.events_of(StepOverdue)
    assert overdue.dossier_code == late.code and overdue.position == 1
    assert stored(uow, late.code).alerts == ["overdue:1"]
    assert uow.events_of(DeadlineApproaching) == [] and stored(uow, quiet.code).alerts == []
    assert counted("processing_deadline_alerts_total", {"kind": "StepOverdue"}) == before + 1


async def test_the_performance_report_counts_the_steps_handled_and_the_backlog(uow: Any) -> None:
    code = (await opened(uow)).code
    await opened(uow)  # a second case, still new at the land office: backlog
    await actions.claim_step(actions.ClaimStep(code=code, actor=LAND_OFFICER, at=AT), uow)
    await actions.submit_step(actions.SubmitStep(code=code, actor=LAND_OFFICER, at=AT), uow)
    await actions.approve_step(actions.ApproveStep(code=code, actor=LAND_LEADER, at=AT), uow)
    await actions.hand_over(actions.HandOver(code=code, actor=LAND_LEADER, at=AT), uow)
    period = ReportPeriod.checked(date(2026, 11, 1), date(2026, 11, 30))
    now = datetime(2026, 11, 26, 9, 0, tzinfo=VN)
    mine = await performance(PerformanceQuery(viewer=LAND_LEADER, period=period, now=now), uow)
    assert [(r.key, r.handled, r.early, r.backlog, r.overdue) for r in mine] == [
        (LAND, 1, 1, 1, 0),
        ("total", 1, 1, 1, 0),
    ]
    auditor = Actor("kiemtra", "auditor", "H56")
    everyone = await performance(PerformanceQuery(viewer=auditor, period=period, now=now), uow)
    assert [(r.key, r.handled, r.backlog) for r in everyone] == [(LAND, 1, 1), (TAX, 0, 1), ("total", 1, 2)]


async def test_the_forms_are_rendered_from_the_case(uow: Any) -> None:
    case = await opened(uow)
    code = case.code
    with pytest.raises(Conflict) as none_yet:
        await apology_document(uow, code=code, viewer=LAND_LEADER)
    assert none_yet.value.code == "no_apology"
    cmd = IssueApology(
        code=code,
        actor=LAND_LEADER,
        reason="Cần xác minh",
        new_appointment_at=case.deadline_at + timedelta(days=7),
        at=AT,
    )
    await issue_apology(cmd, uow)
    assert (await apology_document(uow, code=code, viewer=LAND_LEADER)).startswith(b"%PDF")
    assert (await process_slip_document(uow, code=code, viewer=TAX_LEADER)).startswith(b"%PDF")
    for position, leader in ((1, LAND_LEADER), (2, TAX_LEADER)):
        officer = LAND_OFFICER if position == 1 else TAX_OFFICER
        await actions.claim_step(actions.ClaimStep(code=code, actor=officer, at=AT), uow)
        await actions.submit_step(actions.SubmitStep(code=code, actor=officer, at=AT), uow)
        await actions.approve_step(actions.ApproveStep(code=code, actor=leader, at=AT), uow)
        if position == 1:
            await actions.hand_over(actions.HandOver(code=code, actor=leader, at=AT + timedelta(hours=1)), uow)
    await actions.resolve(actions.Resolve(code=code, actor=TAX_LEADER, summary="Xong", at=AT + timedelta(hours=2)), uow)
    rows = await process_slip(uow, code=code, viewer=TAX_LEADER)
    assert [(r.from_unit.split(" - ")[0], r.to_unit.split(" - ")[0], r.result) for r in rows] == [
        ("Bộ phận một cửa", LAND, None),
        (LAND, TAX, "early"),
        (TAX, "Bộ phận một cửa", "early"),
    ]
    assert [r.at for r in rows[1:]] == [AT + timedelta(hours=1), AT + timedelta(hours=2)]
