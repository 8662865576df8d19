"""Request bodies in, responses out: msgspec with pre-built decoders and encoders."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any, TypeVar

import falcon
import msgspec

from api.errors import ProblemError, invalid

T = TypeVar("T")

# Numbers with a fraction become Decimal, never float: money must not pass through binary floats.
_raw_decoder = msgspec.json.Decoder(float_hook=Decimal)
_encoder = msgspec.json.Encoder(decimal_format="string")
MAX_DEPTH = 32


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def respond(resp: falcon.Response, value: Any, *, status: int = 200) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = _encoder.encode(value)


def read_body(req: falcon.Request, max_bytes: int) -> bytes:
    """Read the body, refusing more than `max_bytes` with 413 whether or not a length was sent."""
    length = req.content_length
    if length is not None and length > max_bytes:
        raise ProblemError(413, "Payload too large", detail=f"the body limit is {max_bytes} bytes", slug="too-large")
    data = req.bounded_stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ProblemError(413, "Payload too large", detail=f"the body limit is {max_bytes} bytes", slug="too-large")
    return data


def _inspect(value: Any, limit: int) -> tuple[int, list[tuple[str, str]]]:
    """The nesting depth of a decoded document, and the paths of strings PostgreSQL cannot store."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "$")]
    deepest = 0
    bad: list[tuple[str, str]] = []
    while stack:
        item, depth, path = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest, bad
        if isinstance(item, str) and "\x00" in item:
            bad.append((path, "NUL characters are not allowed"))
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    bad.append((path, "NUL characters are not allowed in keys"))
                stack.append((child, depth + 1, f"{path}.{key}"))
        elif isinstance(item, list):
            stack.extend((child, depth + 1, f"{path}[{i}]") for i, child in enumerate(item))
    return deepest, bad


def parse(data: bytes, kind: type[T]) -> T:
    """Decode JSON bytes into `kind`: 400 if they are not JSON, 422 naming every invalid field."""
    if not data.strip():
        raise ProblemError(400, "Malformed JSON", detail="the request body is empty", slug="malformed-json")
    try:
        raw = _raw_decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # a string that is not UTF-8 is not JSON either
        raise ProblemError(400, "Malformed JSON", detail=str(exc), slug="malformed-json") from None
    depth, unstorable = _inspect(raw, MAX_DEPTH)
    if depth > MAX_DEPTH:
        raise ProblemError(400, "Malformed JSON", detail=f"nesting deeper than {MAX_DEPTH}", slug="malformed-json")
    errors = unstorable + field_errors(raw, kind, "$")
    if errors:
        raise invalid(errors)
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        raise invalid([_split(str(exc), "$")]) from None


def _split(message: str, prefix: str) -> tuple[str, str]:
    """Turn msgspec's "Expected `int`, got `str` - at `$.x`" into ("$.x", "Expected `int`, got `str`")."""
    text, sep, where = message.rpartition(" - at `")
    if not sep:
        return prefix, message
    path = where.rstrip("`")
    return prefix + path[1:], text


@functools.cache
def _fields(kind: type[msgspec.Struct]) -> tuple[tuple[msgspec.structs.FieldInfo, ...], frozenset[str]]:
    """A body type's fields and their JSON names (resolving annotations is slow; the types never change)."""
    fields = msgspec.structs.fields(kind)
    return fields, frozenset(f.encode_name for f in fields)


def field_errors(raw: Any, kind: Any, path: str) -> list[tuple[str, str]]:
    """Every invalid field of a Struct body, each with its JSON path (msgspec stops at the first)."""
    if not (isinstance(kind, type) and issubclass(kind, msgspec.Struct)):
        try:
            msgspec.convert(raw, kind)
        except msgspec.ValidationError as exc:
            return [_split(str(exc), path)]
        return []
    if not isinstance(raw, dict):
        return [(path, f"Expected `object`, got `{type(raw).__name__}`")]
    errors: list[tuple[str, str]] = []
    fields, known = _fields(kind)
    if kind.__struct_config__.forbid_unknown_fields:
        errors += [(f"{path}.{key}", "Unknown field") for key in raw if key not in known]
    for field in fields:
        where = f"{path}.{field.encode_name}"
        if field.encode_name not in raw:
            if field.required:
                errors.append((where, "Required field is missing"))
            continue
        errors += field_errors(raw[field.encode_name], field.type, where)
    return errors
