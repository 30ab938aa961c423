"""Printable Vietnamese administrative forms on fpdf2: the bundled DejaVu fonts, the national-motto heading,
titles, labelled lines, wrapped tables with repeated headings, QR codes, signature blocks, page numbers and
the Vietnamese ways of writing dates. Layout only: what a form says belongs to the service that prints it.
"""

from motcua_pdfforms.document import (
    A4,
    A5,
    FONT,
    FONTS,
    MOTTO,
    MOTTO_SUB,
    SIGN_NOTE,
    Column,
    FormPDF,
    Signer,
    scaled,
)
from motcua_pdfforms.text import (
    VN,
    clean,
    clip,
    clock_on_day,
    dateline,
    day,
    day_and_clock,
    long_day,
    place,
)

__all__ = [
    "A4",
    "A5",
    "FONT",
    "FONTS",
    "MOTTO",
    "MOTTO_SUB",
    "SIGN_NOTE",
    "VN",
    "Column",
    "FormPDF",
    "Signer",
    "clean",
    "clip",
    "clock_on_day",
    "dateline",
    "day",
    "day_and_clock",
    "long_day",
    "place",
    "scaled",
]
