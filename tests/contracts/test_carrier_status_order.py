"""The carrier's status order is defined once (postal.domain.tracking.STATUS_RANK, used by the client's step model
and the shipment), and the carrier stand-in, which plays the outside party, agrees with it."""

from __future__ import annotations

from typing import get_args

from motcua_devstack.standins import carrier as standin
from postal.clients.carrier import CarrierStep
from postal.domain import tracking


def test_the_client_the_domain_and_the_stand_in_know_the_same_statuses() -> None:
    statuses = set(get_args(tracking.CarrierStatus))
    assert set(tracking.STATUS_RANK) == statuses
    assert set(get_args(CarrierStep.model_fields["status"].annotation)) == statuses
    assert set(get_args(standin.OrderStatus)) == statuses


def test_the_stand_in_and_postal_rank_the_carrier_statuses_the_same() -> None:
    assert dict(standin.STATUS_RANK) == dict(tracking.STATUS_RANK)


def test_a_failed_attempt_comes_after_going_out_and_before_the_result() -> None:
    rank = tracking.STATUS_RANK
    assert rank["out_for_delivery"] < rank["delivery_failed"] < rank["delivered"]
    assert standin.transition_error("delivery_failed", "in_transit") is not None
    assert standin.transition_error("delivered", "delivery_failed") is not None


def test_every_move_the_stand_in_allows_is_ahead_for_postal() -> None:
    """What the carrier may report next (a later step, or the next attempt after a failure) postal applies."""
    assert standin.transition_error("out_for_delivery", "delivery_failed") is None
    assert standin.transition_error("delivery_failed", "out_for_delivery") is None
    for current in get_args(standin.OrderStatus):
        for target in get_args(standin.OrderStatus):
            if standin.transition_error(current, target) is not None or current == target:
                continue
            next_attempt = current == "delivery_failed" and target == "out_for_delivery"
            assert next_attempt or tracking.STATUS_RANK[target] > tracking.STATUS_RANK[current], (current, target)
