"""Small server-side SVG charts (no JavaScript, no chart CDN).

The strict CSP forbids ``style=`` attributes, so colours are SVG presentation attributes
(``fill``), and every text is escaped. Colours are re-checked against #rrggbb, because an
attribute value is the one place a bad colour could break out.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from classifiers.models import HEX_COLOUR_RE

DEFAULT_COLOUR = "#2f5d8a"
MUTED = "#9aa5b1"


def safe_colour(value: str | None) -> str:
    return value if value and HEX_COLOUR_RE.match(value) else DEFAULT_COLOUR


@dataclass
class Bar:
    label: str
    values: list[int]  # one per series
    colour: str = DEFAULT_COLOUR
    href: str = ""


@dataclass
class Series:
    name: str
    opacity: float = 1.0  # the second series is the class colour, lighter


def _fmt(n: int) -> str:
    return f"{n:,}"


def horizontal_bars(
    bars: list[Bar], series: list[Series], *, title: str, width: int = 640, label_width: int = 170
) -> SafeString:
    """A horizontal bar chart: one group of bars per row (e.g. a class), one bar per series
    (e.g. training, test), each labelled with its count. Returns inline SVG markup."""
    row_bar, gap, top = 16, 12, 28
    per_row = row_bar * max(1, len(series)) + gap
    height = top + per_row * max(1, len(bars)) + 8
    plot = width - label_width - 60
    peak = max((v for b in bars for v in b.values), default=0) or 1
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    # Legend.
    x = label_width
    for s in series:
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{MUTED}" fill-opacity="{s.opacity:.2f}"/>'
            f'<text x="{x + 16}" y="16" class="chart-legend">{escape(s.name)}</text>'
        )
        x += 24 + 8 * len(s.name)
    if not bars:
        parts.append(
            f'<text x="{label_width}" y="{top + 14}" class="chart-empty">Nothing to show yet.</text>'
        )
    for i, bar in enumerate(bars):
        y0 = top + i * per_row
        label = bar.label if len(bar.label) <= 24 else bar.label[:23] + "…"
        text = f'<text x="{label_width - 8}" y="{y0 + row_bar - 3}" text-anchor="end" class="chart-label">'
        text += f"<title>{escape(bar.label)}</title>{escape(label)}</text>"
        if bar.href:
            text = f'<a href="{escape(bar.href)}">{text}</a>'
        parts.append(text)
        colour = safe_colour(bar.colour)
        for j, s in enumerate(series):
            value = bar.values[j] if j < len(bar.values) else 0
            y = y0 + j * row_bar
            w = 0 if value <= 0 else max(2, round(plot * value / peak))
            parts.append(
                f'<rect x="{label_width}" y="{y + 1}" width="{w}" height="{row_bar - 3}" '
                f'fill="{colour}" fill-opacity="{s.opacity:.2f}">'
                f"<title>{escape(bar.label)}, {escape(s.name)}: {_fmt(value)}</title></rect>"
                f'<text x="{label_width + w + 4}" y="{y + row_bar - 4}" class="chart-value">{_fmt(value)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every interpolated text is escaped above
