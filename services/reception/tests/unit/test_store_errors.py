"""What the store tells the use cases when a unique key is taken: never the key's value (ID numbers, phones)."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from reception.store import Duplicate


def test_a_duplicate_key_is_reported_without_the_key_value() -> None:
    exc = DuplicateKeyError(
        'E11000 duplicate key error collection: idempotency dup key: { key: "online:079201001234" }',
        11000,
        {"keyPattern": {"key": 1}, "keyValue": {"key": "online:079201001234"}},
    )
    message = str(Duplicate.of(exc, "idempotency"))
    assert message == "duplicate key in idempotency on key"
    assert "079201001234" not in message
