"""Small argument checks and conversions shared by the package (internal)."""

from __future__ import annotations

import datetime as _dt
import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Number = int | float | Decimal

_ONE_MICROSECOND = _dt.timedelta(microseconds=1)


def require_aware(value: _dt.datetime, name: str) -> _dt.datetime:
    """Return ``value`` if it is a timezone-aware datetime, else raise."""
    if not isinstance(value, _dt.datetime):
        raise TypeError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive datetime {value.isoformat()}")
    return value


def require_naive_time(value: _dt.time, name: str) -> _dt.time:
    """Return ``value`` if it is a naive ``datetime.time`` (local wall clock), else raise."""
    if not isinstance(value, _dt.time):
        raise TypeError(f"{name} must be a datetime.time, got {value!r}")
    if value.tzinfo is not None:
        raise ValueError(f"{name} must be a naive local time, got {value!r}")
    return value


def load_zone(name: str) -> ZoneInfo:
    """Resolve an IANA timezone name, raising ValueError for unknown names."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"timezone must be a non-empty IANA name, got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {name!r}") from exc


def scale(unit: _dt.timedelta, amount: Number, name: str) -> _dt.timedelta:
    """Return ``amount * unit`` exactly (rounded to the microsecond); ``amount`` must be >= 0."""
    quantity = _to_decimal(amount, name)
    micros = quantity * Decimal(unit // _ONE_MICROSECOND)
    return _dt.timedelta(microseconds=int(micros.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def _to_decimal(amount: Number, name: str) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, int | float | Decimal):
        raise TypeError(f"{name} must be an int, float or Decimal, got {amount!r}")
    if isinstance(amount, float) and not math.isfinite(amount):
        raise ValueError(f"{name} must be finite, got {amount!r}")
    try:
        # repr() keeps the decimal a user typed (0.1 -> Decimal("0.1")).
        quantity = Decimal(repr(amount)) if isinstance(amount, float) else Decimal(amount)
    except InvalidOperation as exc:  # pragma: no cover - defensive
        raise ValueError(f"{name} is not a number: {amount!r}") from exc
    if not quantity.is_finite():
        raise ValueError(f"{name} must be finite, got {amount!r}")
    if quantity < 0:
        raise ValueError(f"{name} must not be negative, got {amount!r}")
    return quantity
