"""Every declared event is read: by a consumer of one of the four services, or by someone outside them.

The consumers are read through each service's public ``consumer_specs(...)`` (what its main.py gives the
runtime); an event no service consumes must say who reads it (``Event.outside_readers``), so a fact that
nobody reads, or a consumer the README names but the code lacks, shows up here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest

from motcua_kit.events import ALL_EVENTS, TOPICS, Event, event_class
from motcua_kit.runtime import ConsumerSpec
from motcua_kit.settings import AuthSettings


def _reception() -> list[ConsumerSpec]:
    from reception.consumers import consumer_specs

    return consumer_specs(lookup_base_url="http://127.0.0.1:8001/lookup")


def _processing() -> list[ConsumerSpec]:
    from processing.consumers import consumer_specs

    return consumer_specs()


def _postal() -> list[ConsumerSpec]:
    from postal.consumers import consumer_specs
    from postal.settings import CarrierSettings, PostalSettings

    # The rules as postal's main.py builds them from its settings; the class is the one the function takes.
    rules_type = inspect.signature(consumer_specs, eval_str=True).parameters["rules"].annotation
    settings = PostalSettings(
        auth=AuthSettings(jwks_url="http://127.0.0.1:8080/jwks.json"),
        carrier=CarrierSettings(api_key="test-key", webhook_secret="test-secret"),
    )
    return consumer_specs(rules_type.from_settings(settings))


def _notify() -> list[ConsumerSpec]:
    from notify.consumers import consumer_specs

    return consumer_specs()


SERVICES: dict[str, Callable[[], list[ConsumerSpec]]] = {
    "reception": _reception,
    "processing": _processing,
    "postal": _postal,
    "notify": _notify,
}


@pytest.fixture(scope="module")
def specs() -> dict[str, list[ConsumerSpec]]:
    return {service: build() for service, build in SERVICES.items()}


@pytest.fixture(scope="module")
def consumers_of(specs: dict[str, list[ConsumerSpec]]) -> dict[type[Event], list[str]]:
    """Event class -> the consumer groups (``<service>.<name>``) that handle it."""
    found: dict[type[Event], list[str]] = {}
    for service, service_specs in specs.items():
        for spec in service_specs:
            for cls in spec.handlers:
                found.setdefault(cls, []).append(f"{service}.{spec.name}")
    return found


def test_every_service_declares_consumers(specs: dict[str, list[ConsumerSpec]]) -> None:
    for service, service_specs in specs.items():
        assert service_specs, f"{service} declares no consumer group"
        for spec in service_specs:
            assert spec.handlers, f"{service}.{spec.name} handles no event"


def test_every_event_is_consumed_or_read_outside_the_services(consumers_of: dict[type[Event], list[str]]) -> None:
    unread = sorted(cls.event_type for cls in ALL_EVENTS if cls not in consumers_of and not cls.outside_readers)
    assert unread == [], (
        f"no service consumes {', '.join(unread)} and the event names no outside reader: "
        "add a consumer, or set outside_readers on the event class"
    )


def test_outside_readers_are_named() -> None:
    for cls in ALL_EVENTS:
        readers = cls.outside_readers
        assert isinstance(readers, tuple), cls
        assert all(isinstance(reader, str) and reader.strip() for reader in readers), cls
        assert len(set(readers)) == len(readers), cls


def test_consumers_handle_registered_events_on_the_topics_they_subscribe(
    specs: dict[str, list[ConsumerSpec]],
) -> None:
    topics = {topic.name for topic in TOPICS}
    for service, service_specs in specs.items():
        for spec in service_specs:
            group = f"{service}.{spec.name}"
            assert set(spec.topics) <= topics, group
            for cls in spec.handlers:
                assert event_class(cls.event_type, cls.schema_version) is cls, f"{group}: {cls} is not registered"
                assert cls.topic in spec.topics, f"{group} handles {cls.event_type} but does not read {cls.topic}"
