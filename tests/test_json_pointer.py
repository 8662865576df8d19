"""JSON Pointers as RFC 6901 defines them: the RFC's own examples, and what names nothing."""

from __future__ import annotations

import pytest

from ledger import json_pointer

RFC_DOCUMENT = {
    "foo": ["bar", "baz"],
    "": 0,
    "a/b": 1,
    "c%d": 2,
    "e^f": 3,
    "g|h": 4,
    "i\\j": 5,
    'k"l': 6,
    " ": 7,
    "m~n": 8,
}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", RFC_DOCUMENT),
        ("/foo", ["bar", "baz"]),
        ("/foo/0", "bar"),
        ("/", 0),
        ("/a~1b", 1),
        ("/c%d", 2),
        ("/e^f", 3),
        ("/g|h", 4),
        ("/i\\j", 5),
        ('/k"l', 6),
        ("/ ", 7),
        ("/m~0n", 8),
    ],
)
def test_the_rfc_6901_examples_resolve(text: str, value: object) -> None:
    assert json_pointer.resolve(RFC_DOCUMENT, text) == value


@pytest.mark.parametrize("text", ["foo", "/foo/2", "/foo/01", "/foo/-", "/nope", "/foo/0/x", "/m~2n"])
def test_a_pointer_that_names_nothing_is_refused(text: str) -> None:
    with pytest.raises(json_pointer.PointerError):
        json_pointer.resolve(RFC_DOCUMENT, text)


def test_replace_changes_only_the_named_value_and_never_the_whole_document() -> None:
    document = {"a/b": [1, {"c": 2}], "d": 3}
    json_pointer.replace(document, "/a~1b/1/c", "[withheld]")
    assert document == {"a/b": [1, {"c": "[withheld]"}], "d": 3}
    with pytest.raises(json_pointer.PointerError):
        json_pointer.replace(document, "", "[withheld]")


def test_join_escapes_and_contains_compares_whole_tokens() -> None:
    assert json_pointer.join("a/b", 0, "m~n") == "/a~1b/0/m~0n"
    assert json_pointer.contains("/tenders/1", "/tenders/1/price")
    assert json_pointer.contains("/tenders/1", "/tenders/1")
    assert not json_pointer.contains("/tenders/1", "/tenders/10")
