"""Charts drawn on the server as SVG (pygal), shown as images beside the table that holds the same figures: the
table is the accessible alternative and the exact record; a bar's height is only a drawing of it."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from decimal import Decimal

import pygal
from pygal.style import Style

from api.web.format import money

# GOV.UK's colour palette, in an order that keeps neighbours distinguishable.
_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#0b0c0c",
    foreground_strong="#0b0c0c",
    foreground_subtle="#505a5f",
    opacity="1",
    opacity_hover="1",
    colors=("#1d70b8", "#f47738", "#4c2c92", "#00703c", "#d4351c", "#505a5f"),
    font_family="Arial, sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    legend_font_size=14,
    value_font_size=12,
    title_font_size=18,
)


def bar_chart(labels: Sequence[str], series: Mapping[str, Sequence[Decimal]], *, width: int = 900) -> str:
    """A grouped bar chart as a `data:` URI for an <img> (no request of its own, no script ever runs in it)."""
    chart = pygal.Bar(
        style=_STYLE,
        js=(),
        disable_xml_declaration=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=min(len(series), 5) or 1,
        width=width,
        height=420,
        explicit_size=True,
        x_label_rotation=20 if len(labels) > 6 else 0,
        truncate_label=28,
        value_formatter=lambda v: money(Decimal(str(v)).quantize(Decimal("0.01"))),
        print_values=False,
        margin=10,
    )
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, [float(v) for v in values])  # a drawing only: the figures stay Decimal in the table
    svg = chart.render(is_unicode=True)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
