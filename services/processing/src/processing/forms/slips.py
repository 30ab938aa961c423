"""The forms' contents, taken from a case: Mẫu 04 (the apology) and the process-control slip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from motcua_kit.events.processing import StepResult
from processing.domain.case import ApologyRecord, Case
from processing.forms.pdf import Agency, Apology, Handover, ProcessSlip

ONE_STOP_DESK = "Bộ phận một cửa"
SOMEONE = "Ông/Bà"


@dataclass(frozen=True)
class SlipRow:
    """One hand-over between units on the process-control slip."""

    from_unit: str
    to_unit: str
    at: datetime
    result: StepResult | None
    note: str | None


def _desk(case: Case) -> str:
    return f"{ONE_STOP_DESK} - {case.centre_name or case.centre_code}"


def slip_rows(case: Case) -> list[SlipRow]:
    """One row per hand-over between units: the one-stop desk to the first agency, agency to agency,
    the last agency back to the desk; each with the handing unit's result."""
    steps = case.steps
    rows = [
        SlipRow(
            from_unit=_desk(case),
            to_unit=steps[0].agency_code,
            at=case.received_at,
            result=None,
            note="Tiếp nhận và chuyển hồ sơ",
        )
    ]
    moves = [h for h in case.history if h.action in ("hand_over", "resolve")]
    for step, move in zip(steps, moves, strict=False):
        last = step.position == len(steps)
        rows.append(
            SlipRow(
                from_unit=step.agency_code,
                to_unit=_desk(case) if last else steps[step.position].agency_code,
                at=move.at,
                result=step.result,
                note="Trả kết quả" if last else "Chuyển xử lý liên thông",
            )
        )
    return rows


def issuing_agency(case: Case, code: str) -> Agency:
    """The agency of the chain with that code (the first one if none), as the form's issuer."""
    step = next((s for s in case.steps if s.agency_code == code), case.steps[0])
    return Agency(
        code=step.agency_code,
        name=step.agency_name or step.agency_code,
        province_name=case.province_name or case.centre_name or case.centre_code,
    )


def apology_form(case: Case, apology: ApologyRecord) -> Apology:
    return Apology(
        agency=issuing_agency(case, apology.agency_code),
        applicant_name=case.applicant_name or SOMEONE,
        dossier_code=case.code,
        procedure_name=case.procedure["name"],
        received_at=case.received_at,
        original_appointment_at=apology.previous_appointment_at,
        reason=apology.reason,
        new_appointment_at=apology.new_appointment_at,
        issued_at=apology.issued_at,
    )


def process_slip_form(case: Case) -> ProcessSlip:
    return ProcessSlip(
        agency=issuing_agency(case, case.competent_agency),
        dossier_code=case.code,
        procedure_name=case.procedure["name"],
        applicant_name=case.applicant_name or SOMEONE,
        received_at=case.received_at,
        appointment_at=case.deadline_at,
        handovers=tuple(
            Handover(from_unit=r.from_unit, to_unit=r.to_unit, at=r.at, result=r.result, note=r.note)
            for r in slip_rows(case)
        ),
    )
