"""Text helpers for SMS: Vietnamese without diacritics, and segment counting (3GPP TS 23.038)."""

from __future__ import annotations

import unicodedata

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
"""Characters of the GSM-7 extension table: still GSM-7, but two septets each."""

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

_NOT_DECOMPOSED = str.maketrans({"đ": "d", "Đ": "D"})


def unaccent(text: str) -> str:
    """Vietnamese to plain ASCII letters: ``"Đã tiếp nhận"`` -> ``"Da tiep nhan"``."""
    decomposed = unicodedata.normalize("NFD", text.translate(_NOT_DECOMPOSED))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _pack(sizes: list[int], per_part: int) -> int:
    """Parts needed when a character (escape pair, surrogate pair) is never split."""
    parts, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return parts


def sms_segments(text: str) -> int:
    """How many SMS parts ``text`` takes: GSM-7 160 / 153 per part, else UCS-2 70 / 67 per part."""
    if is_gsm7(text):
        sizes = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        single, per_part = GSM7_SINGLE, GSM7_PART
    else:
        sizes = [len(ch.encode("utf-16-le")) // 2 for ch in text]
        single, per_part = UCS2_SINGLE, UCS2_PART
    return 1 if sum(sizes) <= single else _pack(sizes, per_part)
