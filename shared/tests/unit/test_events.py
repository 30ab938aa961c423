import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from motcua_kit.events import ALL_EVENTS, TOPICS, DossierEvent, Envelope, event_class
from motcua_kit.events.export import asyncapi, event_schemas, export

REPO = Path(__file__).resolve().parents[3]


def test_every_event_has_a_unique_type_version_and_a_declared_topic() -> None:
    keys = [(e.event_type, e.schema_version) for e in ALL_EVENTS]
    assert len(keys) == len(set(keys))
    topics = {t.name for t in TOPICS}
    for event in ALL_EVENTS:
        assert event.topic in topics, event
        assert event_class(event.event_type, event.schema_version) is event
    assert event_class("DossierReceived", 99) is None


def test_every_topic_is_produced_by_a_known_service_with_fixed_partitions() -> None:
    assert len({t.name for t in TOPICS}) == len(TOPICS)
    for topic in TOPICS:
        assert topic.name.startswith(topic.producer + "."), topic
        assert topic.partitions >= 1


def test_envelope_round_trips_through_kafka_headers() -> None:
    envelope = Envelope(event_type="DossierReceived", schema_version=1, correlation_id="abc", producer="reception")
    headers = envelope.to_headers()
    assert all(isinstance(v, bytes) for _, v in headers)
    assert ("motcua-event-type", b"DossierReceived") in headers
    assert Envelope.from_headers([*headers, ("other", b"x")]) == envelope


def test_envelope_with_a_missing_header_is_rejected() -> None:
    headers = [
        h
        for h in Envelope(event_type="X", schema_version=1, correlation_id="c", producer="p").to_headers()
        if h[0] != "motcua-event-id"
    ]
    with pytest.raises(ValueError, match="motcua-event-id"):
        Envelope.from_headers(headers)
    bad_version = [(k, b"one" if k == "motcua-schema-version" else v) for k, v in headers]
    with pytest.raises(ValidationError):
        Envelope.from_headers([*bad_version, ("motcua-event-id", b"e1")])


def test_exported_documents_are_current(tmp_path: Path) -> None:
    """docs/events is generated: run `make schemas` after changing an event."""
    written = export(tmp_path)
    for path in written:
        committed = REPO / "docs" / "events" / path.name
        assert committed.exists(), f"{committed} missing: run make schemas"
        assert committed.read_text() == path.read_text(), f"{committed.name} is stale: run make schemas"


def test_asyncapi_lists_every_topic_and_message() -> None:
    doc = asyncapi()
    assert doc["asyncapi"].startswith("3.")
    assert {c["address"] for c in doc["channels"].values()} == {t.name for t in TOPICS}
    assert {m["name"] for m in doc["components"]["messages"].values()} == {e.event_type for e in ALL_EVENTS}
    dossier_events = {f"{e.event_type}.v{e.schema_version}" for e in ALL_EVENTS if issubclass(e, DossierEvent)}
    assert len(dossier_events) > len(ALL_EVENTS) / 2
    for name, schema in event_schemas().items():
        assert ("dossier_code" in schema["required"]) == (name in dossier_events), name
    json.dumps(doc)  # serialisable
