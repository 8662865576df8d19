"""Request bodies in, responses out: msgspec with pre-built decoders and encoders, and the one body reader every
command goes through (media type, size, framing, JSON, and the rules of `ledger.types` for every field)."""

from __future__ import annotations

import functools
import types
import typing
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import falcon
import msgspec

from api.errors import ProblemError, invalid
from ledger.types import FREE_TEXT, day_errors, decimal_errors, text_errors

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


def _too_large(max_bytes: int) -> ProblemError:
    # The rest of an over-long body is never read by the app; gunicorn discards at most 64 KB more of it before
    # it closes the connection instead of serving another request on it.
    return ProblemError(413, "Payload too large", detail=f"the body limit is {max_bytes} bytes", slug="too-large")


def _has_body(req: falcon.Request) -> bool:
    return bool(req.content_length) or req.get_header("Transfer-Encoding") is not None


def read_body(req: falcon.Request, max_bytes: int) -> bytes:
    """Read the body, refusing more than `max_bytes` with 413 however it is framed.

    With Content-Length the server bounds the stream. Chunked (no length) is read from the server's de-chunked
    stream, which ends at the last chunk (`wsgi.input_terminated`, PEP 3333's extension that gunicorn sets),
    and never more than `max_bytes` + 1 of it.
    """
    length = req.content_length
    if length is not None and length > max_bytes:
        raise _too_large(max_bytes)
    if length is None and req.env.get("wsgi.input_terminated") and req.get_header("Transfer-Encoding") is not None:
        data = req.stream.read(max_bytes + 1)
    else:
        data = req.bounded_stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return data


def require_json(req: falcon.Request) -> None:
    """A command's body is JSON: another declared media type is 415 (none declared is taken as JSON)."""
    declared = req.content_type
    if declared is None:
        return
    media_type = declared.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise ProblemError(
            415,
            "Unsupported media type",
            detail=f"send the body as application/json, not {declared[:100]!r}",
            slug="unsupported-media-type",
            headers={"Accept-Post": "application/json"},
        )


def refuse_body(req: falcon.Request, max_bytes: int) -> None:
    """An operation that takes no body: any body sent is refused (422) rather than silently ignored."""
    if _has_body(req) and read_body(req, max_bytes):
        raise invalid([("$", "this operation takes no request body")])


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


def _malformed(detail: str) -> ProblemError:
    return ProblemError(400, "Malformed JSON", detail=detail, slug="malformed-json")


def parse(data: bytes, kind: type[T]) -> T:
    """Decode JSON bytes into `kind`: 400 if they are not JSON, 422 naming every invalid field."""
    if not data.strip():
        raise _malformed("the request body is empty")
    try:
        raw = _raw_decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # a string that is not UTF-8 is not JSON either
        raise _malformed(str(exc)) from None
    except RecursionError:  # nested deeper than the decoder's own stack allows (about 1,000)
        raise _malformed(f"nesting deeper than {MAX_DEPTH}") from None
    depth, unstorable = _inspect(raw, MAX_DEPTH)
    if depth > MAX_DEPTH:
        raise _malformed(f"nesting deeper than {MAX_DEPTH}")
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


def _unwrap(kind: Any) -> tuple[Any, tuple[Any, ...]]:
    """`Annotated[X, Meta, ...]` as (X, its metadata), any other type as (itself, ())."""
    if typing.get_origin(kind) is typing.Annotated:
        base, *metadata = typing.get_args(kind)
        inner, more = _unwrap(base)
        return inner, (*more, *metadata)
    return kind, ()


def _convert(raw: Any, kind: Any, path: str) -> tuple[Any, list[tuple[str, str]]]:
    try:
        return msgspec.convert(raw, kind), []
    except msgspec.ValidationError as exc:
        return None, [_split(str(exc), path)]


_SEQUENCES = (list, tuple, set, frozenset)


def field_errors(raw: Any, kind: Any, path: str) -> list[tuple[str, str]]:
    """Every invalid field of a body, each with its JSON path (msgspec stops at the first).

    Beyond msgspec's own checks, every field is held to the rules of `ledger.types`: a string has no control or
    format characters (free text may break lines), a decimal is a string of digits with at most two places, a
    date or moment lies within the ledger's calendar.
    """
    base, metadata = _unwrap(kind)
    if base is Any:
        return []
    if isinstance(base, type) and issubclass(base, msgspec.Struct):
        return _struct_errors(raw, base, path)
    origin, args = typing.get_origin(base), typing.get_args(base)
    if origin in (typing.Union, types.UnionType):
        if raw is None and type(None) in args:
            return []
        choices = [a for a in args if a is not type(None)]
        if len(choices) == 1:  # an optional field: the rules of its one type, with the metadata it carries
            return field_errors(raw, typing.Annotated[(choices[0], *metadata)] if metadata else choices[0], path)
        return _convert(raw, kind, path)[1]
    if origin in _SEQUENCES and (origin is not tuple or (len(args) == 2 and args[1] is Ellipsis)):
        if not isinstance(raw, list):
            return _convert(raw, kind, path)[1]
        errors = [e for i, item in enumerate(raw) for e in field_errors(item, args[0] if args else Any, f"{path}[{i}]")]
        return errors or _convert(raw, kind, path)[1]  # then the collection's own bounds (length, uniqueness)
    if origin is dict:
        if not isinstance(raw, dict):
            return _convert(raw, kind, path)[1]
        key_type, value_type = args or (Any, Any)
        errors = []
        for key, value in raw.items():
            errors += field_errors(key, key_type, f"{path}.{key}")
            errors += field_errors(value, value_type, f"{path}.{key}")
        return errors or _convert(raw, kind, path)[1]
    if base is Decimal and (errors := decimal_errors(raw, path)):
        return errors
    value, errors = _convert(raw, kind, path)
    if errors:
        return errors
    if isinstance(value, str):
        return text_errors(
            value, path, free_text=any(getattr(m, "extra", None) and FREE_TEXT in m.extra for m in metadata)
        )
    if isinstance(value, date):  # a datetime is a date too
        return day_errors(value, path)
    return []


def _struct_errors(raw: Any, kind: type[msgspec.Struct], path: str) -> list[tuple[str, str]]:
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
