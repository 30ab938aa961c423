"""The parts every printed form shares: fonts, the national heading, titles, labelled lines, wrapped
tables, the QR code, signature blocks and page numbers. Built on fpdf2, always with DejaVu Sans
(the PDF core fonts have no "Đ")."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import FontFace

from motcua_pdfforms.text import clean, clip

FONT = "DejaVu"
FONTS = Path(__file__).parent / "fonts"
A5 = (148.0, 210.0)
A4 = (210.0, 297.0)

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_SUB = "Độc lập - Tự do - Hạnh phúc"
SIGN_NOTE = "(Ký và ghi rõ họ tên)"
SIGNATURE_HEIGHT = 27.0
GREY = (235, 235, 235)


@dataclass(frozen=True)
class Column:
    heading: str
    width: float  # mm
    align: str = "LEFT"


@dataclass(frozen=True)
class Signer:
    """One signature block: a title in capitals, a note under it, room to sign, then the name if known."""

    title: str
    name: str | None = None
    note: str = SIGN_NOTE


def scaled(columns: Sequence[Column], width: float) -> tuple[Column, ...]:
    """The columns stretched or shrunk in proportion to fill ``width``."""
    factor = width / sum(c.width for c in columns)
    return tuple(Column(c.heading, c.width * factor, c.align) for c in columns)


class FormPDF(FPDF):
    """A form on ``page`` (A5 by default; A4 and landscape for registers), body text ``size`` pt."""

    def __init__(
        self,
        *,
        title: str,
        page: tuple[float, float] = A5,
        landscape: bool = False,
        size: float = 8.5,
        margin: float = 11.0,
        creator: str = "motcua",
    ) -> None:
        super().__init__(orientation="L" if landscape else "P", unit="mm", format=page)
        self.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_margins(margin, 10.0, margin)
        self.set_auto_page_break(True, margin=12.0)
        self.set_title(title)
        self.set_lang("vi")
        self.set_creator(creator)
        self.base_size = size
        self.lh = size * 0.5  # line height in mm for body text
        self._finishing = False
        self.add_page()
        self.body()

    # --- text state --------------------------------------------------------------------------------

    def body(self, size: float | None = None) -> None:
        self.set_font(FONT, "", size or self.base_size)

    def bold(self, size: float | None = None) -> None:
        self.set_font(FONT, "B", size or self.base_size)

    def fit(self, text: str, width: float, *, bold: bool, size: float, smallest: float = 6.0) -> None:
        """Sets the largest size (at most ``size``) at which ``text`` fits ``width`` on one line."""
        while True:
            self.set_font(FONT, "B" if bold else "", size)
            if size <= smallest or self.get_string_width(text) <= width - 2 * self.c_margin - 0.1:
                return
            size -= 0.25

    # --- page furniture ----------------------------------------------------------------------------

    def footer(self) -> None:
        if self._finishing and self.page_no() == 1:
            return  # a one-page form carries no page number
        self.set_y(-9)
        self.body(7)
        self.cell(0, 4, f"Trang {self.page_no()}/{{nb}}", align=Align.C)

    def to_bytes(self) -> bytes:
        self._finishing = True
        return bytes(self.output())

    def heading(
        self,
        agency: str,
        *,
        superior: str | None = None,
        refs: Sequence[str] = (),
        dateline: str | None = None,
    ) -> None:
        """The issuing agency at top left (its superior above it, ``refs`` such as "Số: ..." under the
        rule), the national motto at top right with the dateline under it."""
        top = self.y
        left_w = self.epw * 0.46
        right_w = self.epw - left_w - 2
        left_end = self._agency_block(self.l_margin, top, left_w, agency, superior, refs)
        right_end = self._motto_block(self.l_margin + left_w + 2, top, right_w, dateline)
        self.set_xy(self.l_margin, max(left_end, right_end) + self.lh * 0.8)

    def _agency_block(
        self, x: float, y: float, width: float, agency: str, superior: str | None, refs: Sequence[str]
    ) -> float:
        small = self.base_size - 1
        self.set_xy(x, y)
        if superior:
            self.body(small)
            self._centred(x, width, clean(superior).upper(), small)
        self.bold(small)
        self._centred(x, width, clean(agency).upper(), small)
        self._rule(x + width / 3, width / 3)
        lines = [clean(r) for r in refs if clean(r)]
        if lines:
            self.set_y(self.y + 1.5)
            self.body(small)
            for line in lines:
                self._centred(x, width, line, small)
        return self.y

    def _motto_block(self, x: float, y: float, width: float, dateline: str | None) -> float:
        small = self.base_size - 1
        self.set_xy(x, y)
        self.fit(MOTTO, width, bold=True, size=small)
        self._centred(x, width, MOTTO, small)
        self.fit(MOTTO_SUB, width, bold=True, size=small)
        self._centred(x, width, MOTTO_SUB, small)
        rule = self.get_string_width(MOTTO_SUB)
        self._rule(x + (width - rule) / 2, rule)
        if dateline:
            self.set_y(self.y + 1.5)
            self.body(small)
            self._centred(x, width, clean(dateline), small)
        return self.y

    def _centred(self, x: float, width: float, text: str, size: float) -> None:
        self.set_x(x)
        self.multi_cell(width, size * 0.45, text, align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)

    def _rule(self, x: float, width: float) -> None:
        y = self.y + 0.8
        self.set_line_width(0.25)
        self.line(x, y, x + width, y)
        self.set_y(y + 0.5)

    def form_title(self, text: str, subtitle: str | None = None) -> None:
        self.ln(self.lh * 0.5)
        self.bold(self.base_size + 2)
        self.multi_cell(0, self.lh * 1.3, clean(text).upper(), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            self.body()
            self.multi_cell(0, self.lh, clean(subtitle), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.body()
        self.ln(self.lh * 0.6)

    # --- running text ------------------------------------------------------------------------------

    def field(self, label: str, value: str | None, *, strong: bool = False) -> None:
        """``Label: value`` wrapping under the label; an empty value leaves the line out."""
        text = clean(value)
        if not text:
            return
        self.set_x(self.l_margin)
        self.bold()
        self.write(self.lh, f"{label}: ")
        self.set_font(FONT, "B" if strong else "", self.base_size)
        self.write(self.lh, text)
        self.body()
        self.ln(self.lh)

    def paragraph(self, text: str, *, bold: bool = False, align: Align = Align.L) -> None:
        self.set_font(FONT, "B" if bold else "", self.base_size)
        self.set_x(self.l_margin)
        self.multi_cell(0, self.lh, clean(text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.body()

    def numbered(self, items: Sequence[str], *, indent: float = 6.0) -> None:
        """``1. ...``, ``2. ...``, each wrapping with a hanging indent."""
        for n, item in enumerate(items, start=1):
            self.set_x(self.l_margin)
            self.cell(indent, self.lh, f"{n}.")
            self.multi_cell(0, self.lh, clean(item), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def space(self, lines: float = 0.5) -> None:
        self.ln(self.lh * lines)

    # --- tables ------------------------------------------------------------------------------------

    def table_of(
        self,
        columns: Sequence[Column],
        rows: Sequence[Sequence[str]],
        *,
        size: float | None = None,
        cell_limit: int = 600,
        empty: str = "",
    ) -> None:
        """A bordered table with wrapped cells and headings repeated on every page.

        Every cell is cut at ``cell_limit`` characters, so that no row outgrows a page.
        """
        size = size or self.base_size - 0.5
        self.body(size)
        self.set_x(self.l_margin)
        with self.table(
            col_widths=tuple(c.width for c in columns),
            width=sum(c.width for c in columns),
            align=Align.L,
            text_align=tuple(c.align for c in columns),
            line_height=size * 0.45,
            padding=(0.8, 1.0),
            headings_style=FontFace(emphasis="BOLD", fill_color=GREY),
            repeat_headings=1,
        ) as table:
            heading = table.row()
            for column in columns:
                heading.cell(column.heading, align=Align.C)
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(clip(clean(value), cell_limit))
            if not rows and empty:
                table.row().cell(empty, colspan=len(columns), align=Align.C)
        self.body()
        self.ln(self.lh * 0.5)

    # --- QR code and signatures --------------------------------------------------------------------

    def qr(self, data: str, x: float, y: float, size: float) -> bool:
        """Draws ``data`` as a QR code; False when there is nothing to encode or it does not fit one."""
        if not data:
            return False
        try:
            code = segno.make(data, error="m", micro=False)
        except segno.DataOverflowError:
            return False
        png = io.BytesIO()
        code.save(png, kind="png", scale=6, border=1)
        png.seek(0)
        self.image(png, x=x, y=y, w=size, h=size, alt_text=data)
        return True

    def signatures(self, left: Signer | None, right: Signer | None) -> None:
        """Signature blocks side by side, each on half the width; ``None`` leaves that half empty."""
        self.space(0.6)
        if self.y + SIGNATURE_HEIGHT > self.page_break_trigger:
            self.add_page()
        top = self.y
        half = self.epw / 2
        for i, signer in enumerate((left, right)):
            if signer is None:
                continue
            x = self.l_margin + i * half
            self.set_xy(x, top)
            self.bold()
            self.multi_cell(half, self.lh, clean(signer.title), align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
            self.body(self.base_size - 1.5)
            self.multi_cell(half, self.lh, clean(signer.note), align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
            self.set_xy(x, top + SIGNATURE_HEIGHT - 2 * self.lh)
            self.bold()
            self.multi_cell(half, self.lh, clean(signer.name), align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.body()
        self.set_xy(self.l_margin, top + SIGNATURE_HEIGHT)
