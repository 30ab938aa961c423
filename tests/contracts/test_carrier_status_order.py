"""The carrier's status order is defined once for postal's client, and the carrier stand-in agrees with it."""

from __future__ import annotations

from typing import get_args

from motcua_devstack.standins import carrier as standin
from postal.domain import tracking


def test_the_stand_in_and_postal_rank_the_carrier_statuses_the_same() -> None:
    assert set(get_args(tracking.CarrierStatus)) == set(get_args(standin.OrderStatus))
    assert dict(standin.STATUS_RANK) == dict(tracking.STATUS_RANK)


def test_every_move_the_stand_in_allows_is_ahead_for_postal() -> None:
    """What the carrier may report next (a later step, or the next attempt after a failure) postal applies."""
    for current in get_args(standin.OrderStatus):
        for target in get_args(standin.OrderStatus):
            if standin.transition_error(current, target) is not None or current == target:
                continue
            next_attempt = current == "delivery_failed" and target == "out_for_delivery"
            assert next_attempt or tracking.STATUS_RANK[target] > tracking.STATUS_RANK[current], (current, target)
