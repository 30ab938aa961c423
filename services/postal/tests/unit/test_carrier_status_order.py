"""The carrier's status order is defined once (postal.domain.tracking.STATUS_RANK, used by the client's
step model and the shipment); the carrier stand-in must order the statuses the same way."""

from __future__ import annotations

from itertools import permutations
from typing import get_args

from motcua_devstack.standins import carrier as standin
from postal.clients.carrier import CarrierStep
from postal.domain.tracking import STATUS_RANK, CarrierStatus


def _before(rank: dict[str, int]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in permutations(rank, 2) if rank[a] < rank[b]}


def test_the_client_the_domain_and_the_stand_in_know_the_same_statuses() -> None:
    statuses = set(get_args(CarrierStatus))
    assert set(STATUS_RANK) == statuses
    assert set(get_args(CarrierStep.model_fields["status"].annotation)) == statuses
    assert set(standin.STATUS_RANK) == statuses


def test_the_stand_in_orders_the_carrier_statuses_as_postal_does() -> None:
    # Compared as orders (which status comes before which), not as numbers.
    assert _before(standin.STATUS_RANK) == _before(STATUS_RANK)


def test_a_failed_attempt_comes_after_going_out_and_before_the_next_attempt() -> None:
    assert STATUS_RANK["out_for_delivery"] < STATUS_RANK["delivery_failed"] < STATUS_RANK["delivered"]
    # The stand-in lets a failed attempt go out again (the next attempt), and never back before it.
    assert standin.transition_error("out_for_delivery", "delivery_failed") is None
    assert standin.transition_error("delivery_failed", "out_for_delivery") is None
    assert standin.transition_error("delivery_failed", "in_transit") is not None
    assert standin.transition_error("delivered", "delivery_failed") is not None
