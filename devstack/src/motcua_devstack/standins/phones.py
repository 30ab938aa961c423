"""Vietnamese phone numbers as the outside parties accept them on the wire.

Accepted forms are deliberately strict, like a real gateway: digits only, so the product
must normalise user input (spaces, dots, "+84") before calling an outside party.
What a number is (mobile or landline, its national form) is the kit's one rule
(:func:`motcua_kit.values.normalise_phone`); so is masking for logs
(:func:`motcua_kit.values.mask_phone`, :func:`~motcua_kit.values.mask_email`).

* mobile:   ``0`` + one of 3/5/7/8/9 + 8 digits (``0912345678``)
            or the same with ``84`` instead of the leading ``0`` (``84912345678``)
* landline: ``02`` + 9 digits (``02438251234``) or ``842`` + 9 digits
"""

from __future__ import annotations

import re

from motcua_kit.values import is_mobile, normalise_phone

_WIRE_FORM = re.compile(r"\d+")


def normalize_vn_phone(raw: str) -> str | None:
    """The national form (``0xxxxxxxxx``) of a mobile or landline number sent in wire form, or None."""
    if not _WIRE_FORM.fullmatch(raw):
        return None
    return normalise_phone(raw)


def normalize_vn_mobile(raw: str) -> str | None:
    """Like :func:`normalize_vn_phone`, for the numbers that can receive SMS only."""
    phone = normalize_vn_phone(raw)
    return phone if phone is not None and is_mobile(phone) else None
