"""JSON Schema of every event and an AsyncAPI document of every topic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from motcua_kit.events import ALL_EVENTS, TOPICS
from motcua_kit.events.base import Envelope


def event_schemas() -> dict[str, dict[str, Any]]:
    schemas = {}
    for cls in ALL_EVENTS:
        schema = cls.model_json_schema()
        schema["$id"] = f"urn:motcua:event:{cls.event_type}:v{cls.schema_version}"
        schema["x-topic"] = cls.topic
        schema["x-event-type"] = cls.event_type
        schema["x-schema-version"] = cls.schema_version
        schemas[f"{cls.event_type}.v{cls.schema_version}"] = schema
    return schemas


def envelope_headers_schema() -> dict[str, Any]:
    fields = Envelope.model_json_schema()["properties"]
    return {
        "type": "object",
        "description": "The envelope, one Kafka header per field (UTF-8 text).",
        "properties": {
            Envelope.HEADER_PREFIX + k.replace("_", "-"): {"type": "string", "description": k} for k in fields
        },
        "required": [Envelope.HEADER_PREFIX + k.replace("_", "-") for k in fields],
    }


def asyncapi() -> dict[str, Any]:
    schemas = event_schemas()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in TOPICS:
        topic_events = [c for c in ALL_EVENTS if c.topic == topic.name]
        channel_id = topic.name.replace(".", "_")
        channel_messages = {}
        for cls in topic_events:
            name = f"{cls.event_type}_v{cls.schema_version}"
            messages[name] = {
                "name": cls.event_type,
                "title": f"{cls.event_type} v{cls.schema_version}",
                "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
                "contentType": "application/json",
                "headers": {"$ref": "#/components/schemas/EnvelopeHeaders"},
                "payload": {"$ref": f"#/components/schemas/{cls.event_type}.v{cls.schema_version}"},
                "bindings": {"kafka": {"key": {"type": "string", "description": "dossier code"}}},
            }
            channel_messages[name] = {"$ref": f"#/components/messages/{name}"}
        channels[channel_id] = {
            "address": topic.name,
            "description": f"{topic.description} Partitions: {topic.partitions}. Producer: {topic.producer}.",
            "messages": channel_messages,
            "bindings": {"kafka": {"partitions": topic.partitions}},
        }
        if channel_messages:
            operations[f"publish_{channel_id}"] = {"action": "send", "channel": {"$ref": f"#/channels/{channel_id}"}}
    components_schemas: dict[str, Any] = {"EnvelopeHeaders": envelope_headers_schema()}
    for name, schema in schemas.items():
        components_schemas[name] = {k: v for k, v in schema.items() if not k.startswith("$id")}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "motcua dossier events",
            "version": "1.0.0",
            "description": "Events the motcua services exchange over Kafka; the key is the dossier code.",
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": components_schemas},
    }


def export(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in event_schemas().items():
        path = out_dir / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    path = out_dir / "asyncapi.json"
    path.write_text(json.dumps(asyncapi(), indent=2, ensure_ascii=False) + "\n")
    written.append(path)
    return written
