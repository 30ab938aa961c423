"""SMS segment counting (3GPP TS 23.038 default alphabet vs UCS-2).

* GSM-7: 160 septets in a single SMS, 153 per part when concatenated.
  Characters of the extension table (``^{}\\[~]|€`` and form feed) cost two
  septets and an escape pair is never split across parts.
* UCS-2 (any character outside the GSM-7 alphabet, e.g. Vietnamese
  diacritics): 70 UTF-16 code units single, 67 per part; a surrogate pair
  (emoji) costs two units and is never split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

Encoding = Literal["GSM-7", "UCS-2"]

_LIMITS: dict[str, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SegmentCount:
    encoding: Encoding
    segments: int
    units: int
    """Septets (GSM-7) or UTF-16 code units (UCS-2) of the whole text."""


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _unit_sizes(text: str, encoding: Encoding) -> list[int]:
    if encoding == "GSM-7":
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [len(char.encode("utf-16-le")) // 2 for char in text]


def _pack(sizes: list[int], per_part: int) -> int:
    parts, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return parts


def count_segments(text: str) -> SegmentCount:
    """How many SMS parts ``text`` needs, and in which encoding."""
    encoding: Encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    sizes = _unit_sizes(text, encoding)
    single, per_part = _LIMITS[encoding]
    total = sum(sizes)
    segments = 1 if total <= single else _pack(sizes, per_part)
    return SegmentCount(encoding=encoding, segments=segments, units=total)
