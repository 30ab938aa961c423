"""Vietnamese postal addresses: ``<street>, <commune>, <province>``.

Since 1 July 2025 local government has two levels: the province (tỉnh / thành phố) and the commune
(xã / phường / đặc khu). A carrier order needs both, so a free-text address from the dossier is split
here; an address that does not name both is an address problem for an officer to fix, never a guess.
Legacy addresses that still name a district (quận / huyện / thị xã) keep it in the street part.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PROVINCE_PREFIXES = ("thành phố", "tỉnh", "tp.", "tp")
COMMUNE_PREFIXES = ("phường", "xã", "đặc khu", "thị trấn")


class AddressProblem(ValueError):
    """The address cannot be used for a shipment as it is; the message says why."""


@dataclass(frozen=True)
class PostalAddress:
    street: str
    commune: str
    province: str

    @property
    def text(self) -> str:
        return ", ".join(p for p in (self.street, self.commune, self.province) if p)


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", " ".join(value.split()))


def _starts_with(part: str, prefixes: tuple[str, ...]) -> bool:
    lowered = part.casefold()
    return any(lowered == p or lowered.startswith(p + " ") for p in prefixes)


def parse_address(text: str | None) -> PostalAddress:
    """Splits ``"12 Trần Phú, phường Nha Trang, tỉnh Khánh Hòa"`` into street, commune and province."""
    if not text or not text.strip():
        raise AddressProblem("the address is empty")
    parts = [_nfc(p) for p in text.split(",") if p.strip()]
    if len(parts) < 3:
        raise AddressProblem("the address must read '<house and street>, <commune>, <province>'")
    province, commune = parts[-1], parts[-2]
    if not _starts_with(province, PROVINCE_PREFIXES):
        raise AddressProblem(f"the address does not end with a province ('tỉnh ...' or 'thành phố ...'): {province!r}")
    if not _starts_with(commune, COMMUNE_PREFIXES):
        raise AddressProblem(
            f"the address does not name a commune ('phường ...', 'xã ...' or 'đặc khu ...') before the province: "
            f"{commune!r}"
        )
    return PostalAddress(street=", ".join(parts[:-2]), commune=commune, province=province)


def place_key(name: str) -> str:
    """A comparable form of a commune or province name: no prefix, no case, no accents, no spaces.

    ``"TP. Hồ Chí Minh"``, ``"thành phố Hồ Chí Minh"`` and ``"Thành phố Hồ Chí Minh"`` compare equal.
    """
    value = _nfc(name).casefold()
    for prefix in sorted(PROVINCE_PREFIXES + COMMUNE_PREFIXES, key=len, reverse=True):
        if value == prefix or value.startswith(prefix + " ") or (prefix.endswith(".") and value.startswith(prefix)):
            value = value[len(prefix) :]
            break
    value = value.replace("đ", "d")
    stripped = "".join(c for c in unicodedata.normalize("NFD", value) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", stripped)
