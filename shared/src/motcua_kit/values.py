"""Values every service reads the same way: Vietnamese phone numbers, and the period a report covers.

Phone numbers are normalised once, at intake (reception, postal's home collection), so every event carries
the national form (``0912345678``); the services downstream keep it as it came. Masking is one rule for
every screen, log and stand-in: all but the last three digits hidden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated

from pydantic import AfterValidator

from motcua_kit.errors import Invalid

_SEPARATORS = re.compile(r"[\s.\-()]")
_MOBILE = re.compile(r"0[35789]\d{8}")
_LANDLINE = re.compile(r"02\d{9}")
MAX_PERIOD_DAYS = 366
EARLIEST_DAY = date(1900, 1, 1)  # far outside any dossier, and safely inside what datetimes and BSON can hold
LATEST_DAY = date(2999, 12, 31)


def normalise_phone(raw: str | None) -> str | None:
    """The national form of a Vietnamese mobile or landline number, or None if it is not one.

    Spaces, dots, dashes and brackets are dropped; ``+84`` and ``84`` become ``0``.
    """
    if not raw:
        return None
    digits = _SEPARATORS.sub("", raw)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
        return digits
    return None


def is_mobile(phone: str) -> bool:
    """Whether a normalised number can receive SMS."""
    return _MOBILE.fullmatch(phone) is not None


def _parse_phone(raw: str) -> str:
    phone = normalise_phone(raw)
    if phone is None:
        raise ValueError(
            "not a Vietnamese phone number: expected 10 digits starting 03, 05, 07, 08 or 09 (mobile) "
            "or 11 digits starting 02 (landline), optionally written with +84"
        )
    return phone


PhoneNumber = Annotated[str, AfterValidator(_parse_phone)]
"""A request field holding a phone number: normalised, or refused with a clear 422."""


def mask_phone(phone: str) -> str:
    """``0912345123`` -> ``*******123``."""
    return "*" * max(0, len(phone) - 3) + phone[-3:]


def mask_email(address: str) -> str:
    """``nguyen.van.a@gmail.com`` -> ``n***@g***``."""
    local, at, domain = address.partition("@")
    if not at:
        return mask_phone(address)
    return f"{local[:1]}***@{domain[:1]}***"


@dataclass(frozen=True)
class ReportPeriod:
    """Whole local days, ``first`` to ``last`` included, at most :data:`MAX_PERIOD_DAYS` of them."""

    first: date
    last: date

    @classmethod
    def checked(cls, first: date, last: date, *, max_days: int = MAX_PERIOD_DAYS) -> ReportPeriod:
        """The period, or a clear :class:`Invalid` if it runs backwards or is too long."""
        for day in (first, last):
            if not EARLIEST_DAY <= day <= LATEST_DAY:
                raise Invalid(
                    f"{day} is outside the days a report can cover ({EARLIEST_DAY} to {LATEST_DAY})",
                    code="period_out_of_range",
                )
        if first > last:
            raise Invalid(f"the period starts ({first}) after it ends ({last})", code="period_reversed")
        days = (last - first).days + 1
        if days > max_days:
            raise Invalid(f"the period covers {days} days; at most {max_days} are allowed", code="period_too_long")
        return cls(first, last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def start(self, zone: tzinfo) -> datetime:
        """The period's first instant: local midnight of its first day."""
        return datetime.combine(self.first, time(), zone)

    def end(self, zone: tzinfo) -> datetime:
        """The first instant after the period: local midnight after its last day."""
        return datetime.combine(self.last + timedelta(days=1), time(), zone)
