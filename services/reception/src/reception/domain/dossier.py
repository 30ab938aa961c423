"""Dossier rules: the code, intake checks, the appointment and the status codes."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import IntEnum
from typing import Any, Literal

from motcua_kit.events import (
    AgencySupplementRequested,
    ApologyIssued,
    CaseHandedOver,
    CaseOpened,
    DeliveryAttemptFailed,
    DossierRated,
    DossierReceived,
    DossierRefused,
    DossierResolved,
    DossierSubmitted,
    DossierWithdrawn,
    NotificationDelivered,
    NotificationFailed,
    NotificationSent,
    PaymentConfirmed,
    PaymentRequested,
    ProcessingStopped,
    ResultDelivered,
    ResultDeliveryPlanned,
    ResultHandedToPost,
    ResultReturned,
    ShipmentReturned,
    StepAssigned,
    StepCompleted,
    SupplementReceived,
    SupplementRequested,
)
from motcua_kit.events.base import DossierEvent, Event
from motcua_kit.events.reception import Applicant, ChainStep, ProcedureRef
from motcua_kit.values import is_mobile
from motcua_kit.values import normalise_phone as normalise_phone  # the kit's one rule
from motcua_worktime import WorkCalendar
from reception.domain.catalogue import Procedure, fold

CUTOFF = time(15, 0)


class Status(IntEnum):
    """The national portal's status codes."""

    SUBMITTED = 1
    RECEIVED = 2
    REFUSED = 3
    PROCESSING = 4
    SUPPLEMENT_REQUESTED = 5
    PAYMENT_REQUESTED = 6
    WITHDRAWN = 7
    STOPPED = 8
    RESOLVED = 9
    RETURNED = 10


STATUS_NAMES = {
    Status.SUBMITTED: "Mới đăng ký",
    Status.RECEIVED: "Được tiếp nhận",
    Status.REFUSED: "Không được tiếp nhận",
    Status.PROCESSING: "Đang xử lý",
    Status.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung giấy tờ",
    Status.PAYMENT_REQUESTED: "Yêu cầu thực hiện nghĩa vụ tài chính",
    Status.WITHDRAWN: "Công dân yêu cầu rút hồ sơ",
    Status.STOPPED: "Dừng xử lý",
    Status.RESOLVED: "Đã xử lý xong",
    Status.RETURNED: "Đã trả kết quả",
}


def sequence_key(agency_code: str, day: date) -> str:
    return f"{agency_code}-{day:%y%m%d}"


def dossier_code(agency_code: str, day: date, sequence: int) -> str:
    """``<agency code>-<YYMMDD>-<NNNN>``; the sequence restarts every day for every agency."""
    if not 1 <= sequence <= 9999:
        raise ValueError(f"daily sequence {sequence} is out of range 1..9999")
    return f"{sequence_key(agency_code, day)}-{sequence:04d}"


@dataclass(frozen=True)
class SubmittedDocument:
    name: str
    originals: int
    copies: int


def missing_documents(procedure: Procedure, submitted: list[SubmittedDocument]) -> list[str]:
    """Every mandatory document that is absent or short of originals or copies, said plainly."""
    by_name = {d.name.strip().casefold(): d for d in submitted}
    problems = []
    for required in procedure.documents:
        if not required.mandatory:
            continue
        got = by_name.get(required.name.strip().casefold())
        if got is None:
            problems.append(f"thiếu giấy tờ bắt buộc: {required.name}")
            continue
        if got.originals < required.originals:
            problems.append(f"{required.name}: cần {required.originals} bản chính, có {got.originals}")
        if got.copies < required.copies:
            problems.append(f"{required.name}: cần {required.copies} bản sao, có {got.copies}")
    return problems


@dataclass(frozen=True)
class Appointment:
    clock_started_at: datetime
    appointment_at: datetime
    limit_working_hours: float


def appointment_for(
    calendar: WorkCalendar, procedure: Procedure, received_at: datetime, *, online: bool
) -> Appointment:
    hours = procedure.limit.working_hours(
        online=online, hours_per_day=calendar.working_day_length.total_seconds() / 3600
    )
    cutoff = CUTOFF if procedure.cutoff_after_15h else None
    start = calendar.clock_start(received_at, cutoff)
    return Appointment(start, calendar.add_working_hours(start, hours), hours)


# --- transitions -----------------------------------------------------------------------------------

OPEN_STATUSES = frozenset(
    {Status.SUBMITTED, Status.RECEIVED, Status.PROCESSING, Status.SUPPLEMENT_REQUESTED, Status.PAYMENT_REQUESTED}
)
FINAL_STATUSES = frozenset({Status.REFUSED, Status.WITHDRAWN, Status.STOPPED, Status.RETURNED})

ACTIONS: dict[str, frozenset[Status]] = {
    "receive": frozenset({Status.SUBMITTED}),
    "request_supplement": frozenset({Status.SUBMITTED, Status.RECEIVED, Status.PROCESSING}),
    "receive_supplement": frozenset({Status.SUPPLEMENT_REQUESTED}),
    "refuse": frozenset({Status.SUBMITTED, Status.SUPPLEMENT_REQUESTED}),
    "withdraw": OPEN_STATUSES,
    "return_result": frozenset({Status.RESOLVED}),
    "rate": frozenset({Status.RETURNED}),
}

ACTION_NAMES = {
    "receive": "receive",
    "request_supplement": "request a supplement for",
    "receive_supplement": "record a supplement for",
    "refuse": "refuse",
    "withdraw": "withdraw",
    "return_result": "hand back the result of",
    "rate": "rate",
}


def check_action(action: str, status: int, *, clock_running: bool = False) -> None:
    current = Status(status)
    if current not in ACTIONS[action]:
        raise TransitionRefused(
            f"cannot {ACTION_NAMES[action]} a dossier in status {current.value} ({STATUS_NAMES[current]})"
        )
    if action == "refuse" and current is Status.SUPPLEMENT_REQUESTED and clock_running:
        raise TransitionRefused("cannot refuse a dossier that was already received; processing may stop it")


# Events from other services arrive on several topics, so a later fact can be read before an
# earlier one. The register's status only moves forward along the main path; side statuses
# (supplement, payment) apply only while the dossier is being processed.
_PROGRESS = {
    Status.SUBMITTED: 1,
    Status.RECEIVED: 2,
    Status.PROCESSING: 3,
    Status.SUPPLEMENT_REQUESTED: 3,
    Status.PAYMENT_REQUESTED: 3,
    Status.RESOLVED: 4,
    Status.RETURNED: 5,
}


def next_status(current: int, proposed: Status) -> Status:
    """The status after a fact reported by another service: never backwards, never out of a final status."""
    now = Status(current)
    if now in FINAL_STATUSES and now is not proposed:
        return now
    if proposed in (Status.STOPPED, Status.WITHDRAWN):
        return proposed if now in OPEN_STATUSES else now
    if _PROGRESS.get(proposed, 0) < _PROGRESS.get(now, 0):
        return now
    return proposed


def pause_hours(calendar: WorkCalendar, paused_at: datetime, resumed_at: datetime) -> float:
    return calendar.working_time_between(paused_at, resumed_at).total_seconds() / 3600


# --- lookup ----------------------------------------------------------------------------------------

LOOKUP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def search_name(full_name: str) -> str:
    """The applicant's name as searched: lower case, no diacritics, single spaces."""
    return fold(full_name)


def new_lookup_code() -> str:
    """The second factor printed on the receipt: eight characters nobody misreads."""
    return "".join(secrets.choice(LOOKUP_ALPHABET) for _ in range(8))


# --- the aggregate ---------------------------------------------------------------------------------

Outcome = Literal["receive", "request_supplement", "refuse", "submit"]
CHANNEL_NOTES = {1: "Tiếp nhận hồ sơ tại quầy", 2: "Tiếp nhận hồ sơ nộp trực tuyến", 3: "Tiếp nhận hồ sơ qua bưu chính"}
CHANNEL_LABELS = {"sms": "SMS", "email": "thư điện tử"}
RESULT_LABELS = {"early": "trước hạn", "on_time": "đúng hạn", "late": "quá hạn"}


class DossierRuleError(Exception):
    """A rule of the register refuses what was asked; ``code`` names the rule for the API's answer."""

    code = "conflict"

    def __init__(self, message: str, code: str | None = None, problems: list[str] | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.problems = problems or []


class TransitionRefused(DossierRuleError):
    """The dossier's status does not allow the action."""

    code = "illegal_transition"


class Incomplete(DossierRuleError):
    """Mandatory papers are missing: the dossier cannot be received as it is."""

    code = "missing_documents"


class AppointmentError(DossierRuleError):
    """The appointment cannot be computed (the calendar or the limit is wrong)."""

    code = "appointment_error"


@dataclass(frozen=True)
class ApplicantInfo:
    full_name: str
    id_number: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class ProcedureInfo:
    """The procedure as the dossier was received under it."""

    code: str
    name: str
    field: str
    level: str
    version: int = 1


@dataclass(frozen=True)
class ChainLink:
    agency_code: str
    share: float
    agency_name: str | None = None


@dataclass
class HistoryEntry:
    status: int
    at: datetime
    by: str
    agency: str
    note: str | None
    event: str | None = None  # the other service's event that brought it, if any


@dataclass
class SupplementEntry:
    requested_at: datetime
    requested_by: str
    origin: Literal["counter", "agency"]
    reasons: list[str]
    clock_running: bool
    agency_code: str | None = None
    position: int | None = None
    resumed_at: datetime | None = None


@dataclass(frozen=True)
class Rating:
    overall: str
    criteria: dict[str, str]
    rated_at: datetime


@dataclass(frozen=True)
class DossierDraft:
    """What every intake channel says about a dossier, before it has a code."""

    procedure_code: str
    applicant: ApplicantInfo
    documents: tuple[SubmittedDocument, ...] = ()
    content: str | None = None
    return_channel: Literal["counter", "post"] = "counter"
    delivery_address: str | None = None
    notify_channels: tuple[Literal["sms", "email"], ...] = ()

    def problems(self, procedure: Procedure, *, channel: int) -> list[tuple[str, str]]:
        """Everything that stops the dossier from being received, each as (code, message)."""
        problems: list[tuple[str, str]] = []
        if not procedure.active:
            problems.append(("inactive_procedure", f"procedure {procedure.code} is no longer in force"))
        if channel == 3 and not procedure.postal_intake:
            problems.append(("postal_intake_not_allowed", f"procedure {procedure.code} may not be submitted by post"))
        if channel == 2 and procedure.online_level not in ("partial", "full"):
            problems.append(("online_not_allowed", f"procedure {procedure.code} may not be submitted online"))
        if self.return_channel == "post" and not procedure.postal_return:
            problems.append(
                ("postal_return_not_allowed", f"procedure {procedure.code} does not allow returning the result by post")
            )
        problems += [("missing_documents", p) for p in missing_documents(procedure, list(self.documents))]
        for channel_name in self.notify_channels:
            contact = self.applicant.phone if channel_name == "sms" else self.applicant.email
            if not contact:
                what = "phone number" if channel_name == "sms" else "e-mail address"
                problems.append(("missing_contact", f"notification by {channel_name} needs the applicant's {what}"))
            elif channel_name == "sms" and not is_mobile(contact):
                problems.append(("missing_contact", "notification by sms needs a mobile phone number, not a landline"))
        return problems


@dataclass(frozen=True)
class RegisterSearch:
    """A search of the register: every given criterion must match."""

    centre_code: str | None = None
    code_prefix: str | None = None
    applicant: str | None = None  # a part of the name, diacritics optional
    id_number: str | None = None
    phone: str | None = None  # any written form
    procedure_code: str | None = None
    status: int | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


FOLLOWED: tuple[type[DossierEvent], ...] = (
    CaseOpened,
    StepAssigned,
    StepCompleted,
    CaseHandedOver,
    AgencySupplementRequested,
    PaymentRequested,
    PaymentConfirmed,
    ApologyIssued,
    ProcessingStopped,
    DossierResolved,
    ResultDeliveryPlanned,
    ResultHandedToPost,
    DeliveryAttemptFailed,
    ResultDelivered,
    ShipmentReturned,
    NotificationSent,
    NotificationDelivered,
    NotificationFailed,
)
"""The other services' events the register follows: each one is a case of :meth:`Dossier.follow`."""


@dataclass
class Dossier:
    """One dossier of the register: its facts, its status (1..10) and its history.

    Every change is a method that checks the rule (``DossierRuleError`` if it refuses), changes the state and
    returns the events to publish. ``reception.store`` maps it to and from the ``dossiers`` document.
    """

    code: str
    centre_code: str
    centre_name: str
    procedure: ProcedureInfo
    procedure_snapshot: dict[str, Any]
    competent_agency: str
    agency_chain: list[ChainLink]
    intake_channel: int
    return_channel: str
    delivery_address: str | None
    notify_channels: list[str]
    applicant: ApplicantInfo
    content: str | None
    documents: list[SubmittedDocument]
    lookup_url: str
    lookup_code: str | None
    status: int = Status.SUBMITTED
    search_name: str = ""
    submitted_at: datetime | None = None
    received_at: datetime | None = None
    clock_started_at: datetime | None = None
    appointment_at: datetime | None = None
    original_appointment_at: datetime | None = None
    limit_working_hours: float | None = None
    paused_at: datetime | None = None
    paused_working_hours: float = 0.0
    supplement_requests: list[SupplementEntry] = field(default_factory=list)
    refusal_reasons: list[str] = field(default_factory=list)
    received_by: str | None = None
    officer_name: str | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    pickup_id: str | None = None
    province_name: str | None = None
    refused_at: datetime | None = None
    withdrawn_at: datetime | None = None
    stopped_at: datetime | None = None
    resolved_at: datetime | None = None
    returned_at: datetime | None = None
    rating: Rating | None = None
    apology: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Stored fields this model does not know: kept as they are."""
    version: int = 0

    # --- registering ---------------------------------------------------------------------------

    @classmethod
    def register(
        cls,
        *,
        code: str,
        centre_code: str,
        centre_name: str,
        procedure: Procedure,
        procedure_version: int,
        draft: DossierDraft,
        channel: int,
        at: datetime,
        by: str,
        by_name: str | None,
        lookup_base_url: str,
        lookup_code: str,
        pickup_id: str | None = None,
        agency_names: Mapping[str, str] | None = None,
        province_name: str | None = None,
    ) -> Dossier:
        """A new dossier (status 1, no history yet); the intake decision follows with ``decide``."""
        names = agency_names or {}
        return cls(
            code=code,
            centre_code=centre_code,
            centre_name=centre_name,
            procedure=ProcedureInfo(
                procedure.code, procedure.name, procedure.field, procedure.level, procedure_version
            ),
            procedure_snapshot=procedure.model_dump(),
            competent_agency=procedure.competent_agency,
            agency_chain=[
                ChainLink(a, s, names.get(a)) for a, s in zip(procedure.agency_chain, procedure.shares(), strict=True)
            ],
            intake_channel=channel,
            return_channel=draft.return_channel,
            delivery_address=draft.delivery_address
            or (draft.applicant.address if draft.return_channel == "post" else None),
            notify_channels=list(draft.notify_channels),
            applicant=draft.applicant,
            search_name=search_name(draft.applicant.full_name),
            content=draft.content,
            documents=list(draft.documents),
            submitted_at=at if channel != 1 else None,
            lookup_url=f"{lookup_base_url}?code={code}",
            lookup_code=lookup_code,
            received_by=by if channel == 1 else None,
            officer_name=by_name,
            pickup_id=pickup_id,
            province_name=province_name,
        )

    def decide(
        self, outcome: Outcome, reasons: list[str], *, at: datetime, by: str, calendar: WorkCalendar
    ) -> list[Event]:
        """The decision taken at intake on a dossier just registered."""
        if outcome == "receive":
            return self.accept(at=at, by=by, calendar=calendar, at_intake=True)
        if outcome == "submit":
            return self.submit(at=at, by=by, problems=reasons)
        if outcome == "request_supplement":
            return self.request_supplement(reasons, at=at, by=by)
        return self.refuse(reasons, at=at, by=by)

    def submit(self, *, at: datetime, by: str, problems: list[str]) -> list[Event]:
        """Online or by post: waits (status 1) for a counter officer; ``problems`` are what they must check."""
        if self.history:
            raise TransitionRefused("a dossier is submitted once, when it is registered")
        note = "Nộp hồ sơ trực tuyến" if self.intake_channel == 2 else "Bưu chính chuyển hồ sơ đến trung tâm"
        if problems:
            note += ": cần cán bộ kiểm tra (" + "; ".join(problems) + ")"
        self._add(Status.SUBMITTED, at, by, note)
        return [DossierSubmitted(**self._facts(), submitted_at=at)]

    # --- the counter's decisions ---------------------------------------------------------------

    def accept(self, *, at: datetime, by: str, calendar: WorkCalendar, at_intake: bool = False) -> list[Event]:
        """Status 2: the legal clock starts and the appointment is fixed. A dossier brought by the post
        counts from the signed hand-over (``submitted_at``), whenever the officer accepts it."""
        check_action("receive", self.status)
        problems = self.missing_documents(self.documents)
        if problems:
            raise Incomplete("the dossier cannot be received as it is", problems=problems)
        if self.intake_channel == 3 and not at_intake and self.submitted_at is not None:
            at = self.submitted_at
        self._start_clock(at, by, calendar)
        return [self.received_event()]

    def request_supplement(self, reasons: list[str], *, at: datetime, by: str) -> list[Event]:
        """Mẫu 02. Before receipt there is no clock; after it, the clock pauses until the supplement."""
        check_action("request_supplement", self.status)
        running = self.received_at is not None
        self.supplement_requests.append(
            SupplementEntry(
                requested_at=at, requested_by=by, origin="counter", reasons=list(reasons), clock_running=running
            )
        )
        if running:
            self.paused_at = at
        self._add(Status.SUPPLEMENT_REQUESTED, at, by, "; ".join(reasons))
        return [
            SupplementRequested(
                dossier_code=self.code, reasons=list(reasons), requested_at=at, requested_by=by, clock_paused=running
            )
        ]

    def receive_supplement(
        self,
        documents: list[SubmittedDocument],
        *,
        note: str | None,
        at: datetime,
        by: str,
        calendar: WorkCalendar,
    ) -> list[Event]:
        """The citizen brings the papers. With the clock paused, it resumes and the appointment moves by
        the paused working time; before receipt, a now complete dossier is received."""
        check_action("receive_supplement", self.status)
        merged = _merge(self.documents, documents)
        if self.received_at is None:
            problems = self.missing_documents(merged)
            if problems:
                raise Incomplete("the supplement still leaves the dossier incomplete", problems=problems)
        self.documents = merged
        request = self.supplement_requests[-1]
        request.resumed_at = at
        if self.received_at is None:
            self._add(Status.SUPPLEMENT_REQUESTED, at, by, note or "Công dân đã bổ sung hồ sơ")
            self._start_clock(at, by, calendar)
            return [self._supplement_event(at, by, None, 0.0, request), self.received_event()]
        paused_at = self.paused_at or request.requested_at
        paused = pause_hours(calendar, paused_at, at)
        assert self.appointment_at is not None
        self.appointment_at = calendar.extend_for_pause(self.appointment_at, paused_at, at).astimezone(UTC)
        self.paused_working_hours += paused
        self.paused_at = None
        back = Status.PROCESSING if any(h.status == Status.PROCESSING for h in self.history) else Status.RECEIVED
        local = self.appointment_at.astimezone(calendar.zone).strftime("%H:%M ngày %d/%m/%Y")
        self._add(back, at, by, note or f"Công dân đã bổ sung hồ sơ; ngày hẹn trả mới {local}")
        return [self._supplement_event(at, by, paused_at, paused, request)]

    def refuse(self, reasons: list[str], *, at: datetime, by: str) -> list[Event]:
        """Mẫu 03: a dossier not yet received is refused, with the specific reasons."""
        check_action("refuse", self.status, clock_running=self.received_at is not None)
        self.refusal_reasons = list(reasons)
        self.refused_at = at
        self._add(Status.REFUSED, at, by, "; ".join(reasons))
        return [DossierRefused(dossier_code=self.code, reasons=list(reasons), refused_at=at, refused_by=by)]

    def withdraw(self, reason: str, *, at: datetime, by: str) -> list[Event]:
        """The citizen asks to withdraw the dossier (status 7); processing stops its case on the event."""
        check_action("withdraw", self.status)
        self.withdrawn_at = at
        self._add(Status.WITHDRAWN, at, by, reason)
        return [DossierWithdrawn(dossier_code=self.code, reason=reason, withdrawn_at=at, recorded_by=by)]

    def return_at_counter(self, *, recipient_name: str | None, note: str | None, at: datetime, by: str) -> list[Event]:
        """The result handed over at the counter (status 10)."""
        check_action("return_result", self.status)
        self.returned_at = at
        who = f"Trả kết quả tại quầy cho {recipient_name}" if recipient_name else "Trả kết quả tại quầy"
        self._add(Status.RETURNED, at, by, f"{who}. {note}" if note else who)
        return [ResultReturned(dossier_code=self.code, returned_at=at, channel="counter", recorded_by=by)]

    def rate(self, overall: str, criteria: Mapping[str, str], *, at: datetime) -> list[Event]:
        """The citizen rates a returned dossier, once."""
        if self.status != Status.RETURNED:
            raise DossierRuleError("a dossier can be rated once its result was returned", code="not_returned")
        if self.rating is not None:
            raise DossierRuleError("this dossier was already rated", code="already_rated")
        self.rating = Rating(overall, dict(criteria), at)
        return [DossierRated(dossier_code=self.code, overall=overall, criteria=dict(criteria), rated_at=at)]  # type: ignore[arg-type]

    # --- what the other services report --------------------------------------------------------

    def follow(self, e: DossierEvent) -> list[Event]:
        """A fact from processing, postal or notify: into the history, the status only forward
        (``next_status``: events from several topics may come out of order)."""
        if isinstance(e, CaseOpened):
            first = e.steps[0].agency_code if e.steps else ""
            opened = self.received_at or self.history[-1].at
            self._record(e, opened, "processing", first, f"Chuyển xử lý: {first}", Status.PROCESSING)
        elif isinstance(e, StepAssigned):
            self._record(e, e.assigned_at, e.assigned_by, e.agency_code, f"Phân công xử lý bước {e.position}")
        elif isinstance(e, StepCompleted):
            note = f"Hoàn thành bước {e.position} ({RESULT_LABELS[e.result]})"
            self._record(e, e.completed_at, e.completed_by, e.agency_code, note)
        elif isinstance(e, CaseHandedOver):
            note = f"Chuyển hồ sơ từ {e.from_agency} sang {e.to_agency}"
            self._record(e, e.handed_over_at, e.handed_over_by, e.from_agency, note)
        elif isinstance(e, AgencySupplementRequested):
            self._agency_supplement(e)
        elif isinstance(e, PaymentRequested):
            note = f"Yêu cầu thực hiện nghĩa vụ tài chính: {e.amount_vnd:,} đồng ({e.description})".replace(",", ".")
            self._record(e, e.requested_at, "processing", e.agency_code, note, Status.PAYMENT_REQUESTED)
        elif isinstance(e, PaymentConfirmed):
            note = "Đã hoàn thành nghĩa vụ tài chính"
            self._record(e, e.confirmed_at, "processing", e.agency_code, note, Status.PROCESSING)
        elif isinstance(e, ApologyIssued):
            self.appointment_at = e.new_appointment_at
            self.apology = {
                "issued_at": e.issued_at,
                "previous": e.previous_appointment_at,
                "new": e.new_appointment_at,
                "reason": e.reason,
                "agency_code": e.agency_code,
            }
            note = f"Xin lỗi và hẹn lại ngày trả kết quả: {e.reason}"
            self._record(e, e.issued_at, e.issued_by, e.agency_code, note)
        elif isinstance(e, ProcessingStopped):
            self.stopped_at = e.stopped_at
            self._record(e, e.stopped_at, e.stopped_by, e.agency_code, e.reason, Status.STOPPED)
        elif isinstance(e, DossierResolved):
            self.resolved_at = e.resolved_at
            self.result = {
                "summary": e.result_summary,
                "document_ref": e.result_document_ref,
                "agency_code": e.agency_code,
            }
            note = f"Đã xử lý xong: {e.result_summary}"
            self._record(e, e.resolved_at, e.resolved_by, e.agency_code, note, Status.RESOLVED)
        elif isinstance(e, ResultDeliveryPlanned):
            self._record(e, e.planned_at, "postal", self.centre_code, "Đăng ký trả kết quả qua bưu chính")
        elif isinstance(e, ResultHandedToPost):
            note = f"Đã chuyển kết quả cho bưu chính, số hiệu {e.tracking_number}"
            self._record(e, e.handed_over_at, "postal", self.centre_code, note)
        elif isinstance(e, DeliveryAttemptFailed):
            note = f"Phát kết quả không thành công lần {e.attempt}: {e.reason}"
            self._record(e, e.failed_at, "postal", self.centre_code, note)
        elif isinstance(e, ResultDelivered):
            return self._delivered(e)
        elif isinstance(e, ShipmentReturned):
            self.return_channel = "counter"
            note = f"Bưu chính chuyển hoàn kết quả về trung tâm sau {e.attempts} lần phát: {e.reason}"
            self._record(e, e.returned_at, "postal", self.centre_code, note)
        elif isinstance(e, NotificationSent):
            self._record(e, e.sent_at, "notify", self.centre_code, f"Đã gửi {CHANNEL_LABELS[e.channel]} cho công dân")
        elif isinstance(e, NotificationDelivered):
            label = CHANNEL_LABELS[e.channel]
            note = f"{label[:1].upper()}{label[1:]} đã đến công dân"  # the provider's receipt
            self._record(e, e.delivered_at, "notify", self.centre_code, note)
        elif isinstance(e, NotificationFailed):
            note = f"Không gửi được {CHANNEL_LABELS[e.channel]} cho công dân"
            self._record(e, e.failed_at, "notify", self.centre_code, note)
        else:
            raise TypeError(f"the register does not follow {e.event_type}")
        return []

    def _agency_supplement(self, e: AgencySupplementRequested) -> None:
        if Status(self.status) not in (Status.RECEIVED, Status.PROCESSING):
            note = "Cơ quan yêu cầu bổ sung (không áp dụng)"
            self._record(e, e.requested_at, e.requested_by, e.agency_code, note)
            return
        self.supplement_requests.append(
            SupplementEntry(
                requested_at=e.requested_at,
                requested_by=e.requested_by,
                origin="agency",
                agency_code=e.agency_code,
                position=e.position,
                reasons=list(e.reasons),
                clock_running=True,
            )
        )
        self.paused_at = e.requested_at
        note = "; ".join(e.reasons)
        self._record(e, e.requested_at, e.requested_by, e.agency_code, note, Status.SUPPLEMENT_REQUESTED)

    def _delivered(self, e: ResultDelivered) -> list[Event]:
        before = Status(self.status)
        self.returned_at = e.delivered_at
        note = "Bưu chính đã phát kết quả cho công dân"
        self._record(e, e.delivered_at, "postal", self.centre_code, note, Status.RETURNED)
        if before is not Status.RETURNED and self.status == Status.RETURNED:
            return [
                ResultReturned(dossier_code=self.code, returned_at=e.delivered_at, channel="post", recorded_by="postal")
            ]
        return []

    # --- reading -------------------------------------------------------------------------------

    def missing_documents(self, documents: list[SubmittedDocument]) -> list[str]:
        """The mandatory documents missing from ``documents``, by the procedure the dossier was received under."""
        return missing_documents(Procedure.model_validate(self.procedure_snapshot), documents)

    def may_be_seen_by(self, role: str, scope: str) -> bool:
        return role == "auditor" or scope == self.centre_code

    def received_event(self) -> DossierReceived:
        assert self.received_at and self.clock_started_at and self.appointment_at and self.received_by
        assert self.limit_working_hours is not None
        return DossierReceived(
            **self._facts(),
            competent_agency=self.competent_agency,
            agency_chain=[
                ChainStep(agency_code=s.agency_code, share=s.share, agency_name=s.agency_name)
                for s in self.agency_chain
            ],
            province_name=self.province_name,
            received_at=self.received_at,
            clock_started_at=self.clock_started_at,
            appointment_at=self.appointment_at,
            limit_working_hours=self.limit_working_hours,
            received_by=self.received_by,
        )

    # --- inside --------------------------------------------------------------------------------

    def _start_clock(self, at: datetime, by: str, calendar: WorkCalendar) -> None:
        procedure = Procedure.model_validate(self.procedure_snapshot)
        try:
            appointment = appointment_for(calendar, procedure, at, online=self.intake_channel == 2)
        except ValueError as exc:
            raise AppointmentError(f"cannot compute the appointment: {exc}") from exc
        self.received_at = at
        self.clock_started_at = appointment.clock_started_at.astimezone(UTC)
        self.appointment_at = appointment.appointment_at.astimezone(UTC)
        self.original_appointment_at = appointment.appointment_at.astimezone(UTC)
        self.limit_working_hours = appointment.limit_working_hours
        self.received_by = self.received_by or by
        self._add(Status.RECEIVED, at, by, CHANNEL_NOTES[self.intake_channel])

    def _add(self, status: Status, at: datetime, by: str, note: str | None) -> None:
        """A transition made here: the status is the one given."""
        self.status = int(status)
        self.history.append(HistoryEntry(int(status), at, by, self.centre_code, note))

    def _record(
        self, event: DossierEvent, at: datetime, by: str, agency: str, note: str, status: Status | None = None
    ) -> None:
        """A fact reported by another service: a history row, oldest first; the status moves only forward."""
        new = next_status(self.status, status) if status is not None else Status(self.status)
        self.status = int(new)
        self.history.append(HistoryEntry(int(new), at, by, agency, note, event.event_type))
        self.history.sort(key=lambda h: h.at)

    def _supplement_event(
        self, at: datetime, by: str, paused_at: datetime | None, paused: float, request: SupplementEntry
    ) -> SupplementReceived:
        return SupplementReceived(
            dossier_code=self.code,
            received_at=at,
            paused_at=paused_at,
            paused_working_hours=round(paused, 4),
            appointment_at=self.appointment_at,
            step_position=request.position,
            received_by=by,
        )

    def _facts(self) -> dict[str, Any]:
        p = self.procedure
        a = self.applicant
        return {
            "dossier_code": self.code,
            "centre_code": self.centre_code,
            "centre_name": self.centre_name,
            "procedure": ProcedureRef(code=p.code, name=p.name, field=p.field, version=p.version),
            "intake_channel": self.intake_channel,
            "return_channel": self.return_channel,
            "notify_channels": self.notify_channels,
            "applicant": Applicant(
                full_name=a.full_name, id_number=a.id_number, phone=a.phone, email=a.email, address=a.address
            ),
            "delivery_address": self.delivery_address,
            "lookup_url": self.lookup_url,
            "pickup_id": self.pickup_id,
        }


def _merge(existing: list[SubmittedDocument], added: list[SubmittedDocument]) -> list[SubmittedDocument]:
    """Adds the supplement's papers to what was received; a paper brought again replaces the old count."""
    by_name = {d.name.strip().casefold(): d for d in existing}
    for doc in added:
        by_name[doc.name.strip().casefold()] = doc
    return list(by_name.values())
