"""FOI documents as readable, self-contained HTML: decision records and disclosures.

Rendered from the documents' JSON form, so that a disclosure (where withheld values are markers) and a
record read the same way. Every key and value passes through `html.escape` here, in one place; there are
no scripts and no external resources.
"""

from __future__ import annotations

import html
from typing import Any

from ledger.audit.contents import PROVENANCE, SECTION_TITLES
from ledger.audit.foi import MARKER_PREFIX

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#0b0c0c;line-height:1.4}"
    "h1{font-size:1.8rem}h2{font-size:1.35rem;border-bottom:2px solid #0b0c0c;margin-top:2rem}"
    "table{border-collapse:collapse;width:100%;margin:.4rem 0}"
    "td,th{border:1px solid #b1b4b6;padding:.3rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f3f2f1}table.fields>tbody>tr>th{width:14rem}"
    ".withheld{background:#0b0c0c;color:#fff;padding:0 .3rem}.none{color:#505a5f}"
    ".verify{background:#f3f2f1;padding:.6rem 1rem}code{font-size:.95em;word-break:break-all}"
)


def _label(key: str) -> str:
    return html.escape(key.replace("_", " ").capitalize())


def _value(value: Any) -> str:
    if value is None:
        return "<span class='none'>—</span>"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(MARKER_PREFIX):
        return f"<span class='withheld'>{html.escape(value)}</span>"
    if isinstance(value, dict):
        return _fields(value) if value else "<span class='none'>none</span>"
    if isinstance(value, list):
        if not value:
            return "<span class='none'>none</span>"
        if all(isinstance(item, dict) for item in value):
            return _rows(value)
        return "<ul>" + "".join(f"<li>{_value(item)}</li>" for item in value) + "</ul>"
    return html.escape(str(value))


def _fields(document: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{_label(k)}</th><td>{_value(v)}</td></tr>" for k, v in document.items())
    return f"<table class='fields'><tbody>{rows}</tbody></table>"


def _rows(items: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(k for item in items for k in item))
    head = "".join(f"<th>{_label(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_value(item.get(c))}</td>" for c in columns) + "</tr>" for item in items)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _horizon(horizon: Any) -> str:
    if not isinstance(horizon, dict) or not any(horizon.values()):
        return "every event recorded when it was made"
    bounds = {
        "recorded_by": "recorded by {}",
        "effective_by": "effective (happened in the world) by {}",
        "position": "at or before log position {}",
    }
    return "events " + " and ".join(
        text.format(f"<code>{_value(horizon[key])}</code>") for key, text in bounds.items() if horizon.get(key)
    )


def _verification(document: dict[str, Any]) -> str:
    checkpoint = document.get("checkpoint")
    if isinstance(checkpoint, dict):
        signed = (
            f"The latest signed checkpoint covering it holds <code>{_value(checkpoint.get('tree_size'))}</code> "
            f"events with root <code>{_value(checkpoint.get('root'))}</code>: check any event of this record "
            "against it with <code>GET /audit/events/{position}/inclusion-proof?tree_size=</code>"
            f"<code>{_value(checkpoint.get('tree_size'))}</code>."
        )
    else:
        signed = "No signed checkpoint covered that position yet when this document was made."
    return (
        "<div class='verify'><p>Built only from the ledger's events, as known at this horizon: "
        f"{_horizon(document.get('horizon'))}. It read up to log position "
        f"<code>{_value(document.get('read_up_to'))}</code>. {signed}</p></div>"
    )


def _record_body(document: dict[str, Any]) -> str:
    summary = {
        k: v for k, v in document.items() if k not in PROVENANCE and k not in SECTION_TITLES and not isinstance(v, dict)
    }
    sections = [_verification(document), _fields(summary)]
    sections += [
        f"<h2>{html.escape(title)}</h2>{_value(document[key])}"
        for key, title in SECTION_TITLES.items()
        if key in document
    ]
    return "".join(sections)


def call_off_record_html(document: dict[str, Any]) -> str:
    title = document.get("call_off", {})
    name = title.get("title") if isinstance(title, dict) else None
    return _page(f"Decision record: {name or document.get('call_off_id')}", _record_body(document))


def qualification_record_html(document: dict[str, Any]) -> str:
    return _page(f"Qualification record: {document.get('name')}", _record_body(document))


def disclosure_html(disclosure: dict[str, Any]) -> str:
    source = disclosure["source"]
    withheld = disclosure["withheld"]
    schedule = "<h2>Information withheld, and why</h2>" + (
        _rows(withheld) if withheld else "<p>Nothing was withheld: the record is disclosed in full.</p>"
    )
    intro = (
        f"<p>In response to request <code>{html.escape(str(disclosure['request_id']))}</code>: the "
        f"{_label(str(source['kind'])).lower()} of <code>{html.escape(str(source['id']))}</code>, as recorded up to "
        f"log position <code>{html.escape(str(source['position']))}</code>. Each withheld value is replaced by a "
        "marker naming the exemption; the schedule lists them.</p>"
    )
    document = disclosure["document"]
    body = intro + schedule + _record_body(document)
    return _page("Disclosure under the Freedom of Information Act 2000", body)
