"""Vietnamese phone numbers: validation, normalisation and masking for logs.

Accepted forms are deliberately strict, like a real gateway: the product must
normalise user input (spaces, dots, "+84") before calling an outside party.

* mobile:   ``0`` + one of 3/5/7/8/9 + 8 digits (``0912345678``)
            or the same with ``84`` instead of the leading ``0`` (``84912345678``)
* landline: ``02`` + 9 digits (``02438251234``) or ``842`` + 9 digits
"""

from __future__ import annotations

import re

_MOBILE_NATIONAL = re.compile(r"0[35789]\d{8}")
_MOBILE_INTERNATIONAL = re.compile(r"84[35789]\d{8}")
_LANDLINE_NATIONAL = re.compile(r"02\d{9}")
_LANDLINE_INTERNATIONAL = re.compile(r"842\d{9}")


def normalize_vn_mobile(raw: str) -> str | None:
    """Return the national form (``0xxxxxxxxx``) of a Vietnamese mobile number, or None."""
    if _MOBILE_NATIONAL.fullmatch(raw):
        return raw
    if _MOBILE_INTERNATIONAL.fullmatch(raw):
        return "0" + raw[2:]
    return None


def normalize_vn_phone(raw: str) -> str | None:
    """Like :func:`normalize_vn_mobile` but also accepts landlines (carrier contacts)."""
    mobile = normalize_vn_mobile(raw)
    if mobile is not None:
        return mobile
    if _LANDLINE_NATIONAL.fullmatch(raw):
        return raw
    if _LANDLINE_INTERNATIONAL.fullmatch(raw):
        return "0" + raw[2:]
    return None


def mask_phone(phone: str) -> str:
    """Keep the first three and last two characters: ``0912345678`` -> ``091*****78``."""
    if len(phone) <= 5:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 5) + phone[-2:]


def mask_email(address: str) -> str:
    """Keep the first character of the local part and the domain: ``n***@example.vn``."""
    local, at, domain = address.partition("@")
    if not at:
        return mask_phone(address) if address else address
    return f"{local[:1]}***@{domain}"
