"""The AsyncAPI 3.0 document of the events the ledger publishes: one channel and message per CloudEvents type, each
with the public schema of its `data` (ADR 34). Generated from the catalogue, so it cannot drift from the messages."""

from __future__ import annotations

from typing import Any

import msgspec

from api.routes.events import CLOUD_EVENT
from projections.published.catalogue import NOT_PUBLISHED, public_types
from projections.published.stream import CHECKPOINT_TYPE, MESSAGE_MEDIA, CheckpointSignedV1

_REF = "#/components/schemas/{name}"


def document(*, exchange: str, source: str) -> dict[str, Any]:
    published = sorted(public_types().values(), key=lambda p: p.cloud_type)
    kinds: list[tuple[str, str, str, Any]] = [
        (p.event, p.cloud_type, f"{p.aggregate}: {p.event}", p.data) for p in published
    ]
    kinds.append(("CheckpointSigned", CHECKPOINT_TYPE, "The Merkle log: a checkpoint signed", CheckpointSignedV1))
    _, schemas = msgspec.json.schema_components([kind[3] for kind in kinds], ref_template=_REF)
    binding = {
        "amqp": {
            "is": "routingKey",
            "exchange": {"name": exchange, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"},
        }
    }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for name, cloud_type, title, data in kinds:
        payload = {
            **CLOUD_EVENT,
            "properties": {
                **CLOUD_EVENT["properties"],
                "type": {"const": cloud_type},
                "source": {"const": source},
                "data": {"$ref": _REF.format(name=data.__name__)},
            },
            "required": [*CLOUD_EVENT["required"], "data"],
        }
        messages[name] = {
            "name": name,
            "title": title,
            "contentType": MESSAGE_MEDIA,
            "payload": payload,
            "bindings": {"amqp": {"messageType": cloud_type}},
        }
        channels[name] = {
            "address": cloud_type,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": binding,
        }
        operations[f"publish{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{name}"},
            "messages": [{"$ref": f"#/channels/{name}/messages/{name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Probation Dynamic Framework ledger: domain events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 (JSON structured mode) published to a durable topic exchange, routed by"
            " `type`, persistent and confirmed; the same messages from GET /events/feed. `data` holds identifiers"
            " and business facts only: personal data and sealed tender content never leave (read them through"
            " the API with a purpose). Event types not published, each with its reason, are under"
            " `x-not-published`.",
        },
        "defaultContentType": MESSAGE_MEDIA,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
        "x-not-published": dict(sorted(NOT_PUBLISHED.items())),
    }
