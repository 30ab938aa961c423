"""The printable forms of the one-stop shop: pure rendering from the models in ``forms.models``.

Mẫu 01 receipt, Mẫu 02 supplement request, Mẫu 03 refusal (A5 PDF) and Mẫu 06 log book (A4 PDF, CSV).
"""

from motcua_pdfforms import VN
from reception.forms.csv import log_book_csv
from reception.forms.models import (
    Applicant,
    DocumentRow,
    Issuer,
    LogBook,
    LogBookRow,
    Receipt,
    Refusal,
    SupplementItem,
    SupplementRequest,
)
from reception.forms.pdf import log_book_pdf, receipt_pdf, refusal_pdf, supplement_request_pdf

__all__ = [
    "VN",
    "Applicant",
    "DocumentRow",
    "Issuer",
    "LogBook",
    "LogBookRow",
    "Receipt",
    "Refusal",
    "SupplementItem",
    "SupplementRequest",
    "log_book_csv",
    "log_book_pdf",
    "receipt_pdf",
    "refusal_pdf",
    "supplement_request_pdf",
]
