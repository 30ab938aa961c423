"""Dossier rules: the code, intake checks, the appointment and the status codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import IntEnum

from motcua_worktime import WorkCalendar
from reception.domain.catalogue import Procedure

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
