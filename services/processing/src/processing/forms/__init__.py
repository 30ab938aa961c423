"""The forms processing prints: the models and renderers (:mod:`.pdf`), and their contents taken
from a case (:mod:`.slips`). Rendering is CPU work: callers run it in a thread."""

from processing.forms.pdf import Agency, Apology, Handover, ProcessSlip, apology_pdf, process_slip_pdf
from processing.forms.slips import SlipRow, apology_form, issuing_agency, process_slip_form, slip_rows

__all__ = [
    "Agency",
    "Apology",
    "Handover",
    "ProcessSlip",
    "SlipRow",
    "apology_form",
    "apology_pdf",
    "issuing_agency",
    "process_slip_form",
    "process_slip_pdf",
    "slip_rows",
]
