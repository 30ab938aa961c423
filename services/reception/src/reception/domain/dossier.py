"""Dossier rules: the code, intake checks, the appointment and the status codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import IntEnum

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


class TransitionRefused(Exception):
    """The dossier's status does not allow the action."""


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


def normalise_phone(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    return "0" + digits[2:] if digits.startswith("84") and len(digits) == 11 else digits
