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


# --- Line charts (evaluation: precision/recall vs threshold, learning curve) -------------------
# A fixed palette (never user input) told apart by dash pattern too, for colour-blind readers.
LINE_STYLES = [("#2f5d8a", ""), ("#b5562b", "6 3"), ("#1e7a46", "2 3"), ("#6b4fa0", "8 3 2 3")]


@dataclass
class Line:
    name: str
    points: list[tuple[float, float]]  # (x, y) in data units
    markers: bool = False  # a dot with a tooltip on each point (few points only)
    point_label: str = ""  # tooltip format: {x} and {y} are replaced


@dataclass
class Marker:
    """A labelled vertical line, e.g. the model's threshold."""

    x: float
    label: str


def _tick(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:.2f}".rstrip("0")


def line_chart(
    lines: list[Line],
    *,
    title: str,
    desc: str,
    x_label: str,
    y_label: str,
    x_range: tuple[float, float] = (0.0, 1.0),
    y_range: tuple[float, float] = (0.0, 1.0),
    x_ticks: list[tuple[float, str]] | None = None,
    y_ticks: list[tuple[float, str]] | None = None,
    markers: list[Marker] | None = None,
    width: int = 640,
    height: int = 300,
    chart_id: str = "chart",
) -> SafeString:
    """An accessible SVG line chart: <title> and <desc>, labelled axes and ticks, a legend,
    and every text escaped (class names are user text). Returns inline SVG markup."""
    left, right, top, bottom = 52, 44, 40, 44
    cid = escape(chart_id)
    plot_w, plot_h = width - left - right, height - top - bottom
    x0, x1 = x_range
    y0, y1 = y_range
    span_x = (x1 - x0) or 1.0
    span_y = (y1 - y0) or 1.0

    def px(x: float) -> float:
        return left + plot_w * (min(max(x, x0), x1) - x0) / span_x

    def py(y: float) -> float:
        return top + plot_h * (1 - (min(max(y, y0), y1) - y0) / span_y)

    if x_ticks is None:
        x_ticks = [(x0 + span_x * i / 5, _tick(x0 + span_x * i / 5)) for i in range(6)]
    if y_ticks is None:
        y_ticks = [(y0 + span_y * i / 5, _tick(y0 + span_y * i / 5)) for i in range(6)]
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart line-chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{cid}-t {cid}-d">',
        f'<title id="{cid}-t">{escape(title)}</title><desc id="{cid}-d">{escape(desc)}</desc>',
    ]
    # Grid and ticks.
    for value, label in y_ticks:
        y = py(value)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="chart-grid" stroke="#dde2e8"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="chart-value">{escape(label)}</text>'
        )
    for value, label in x_ticks:
        x = px(value)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" stroke="#9aa5b1"/>'
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="chart-value">{escape(label)}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#9aa5b1"/>'
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#9aa5b1"/>'
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="chart-label">{escape(x_label)}</text>'
        f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" class="chart-label" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">{escape(y_label)}</text>'
    )
    for marker in markers or []:
        x = px(marker.x)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#5d6775" stroke-dasharray="3 3">'
            f"<title>{escape(marker.label)}</title></line>"
            f'<text x="{x:.1f}" y="{top - 5}" text-anchor="middle" class="chart-value">{escape(marker.label)}</text>'
        )
    # Legend.
    lx = left
    for i, line in enumerate(lines):
        colour, dash = LINE_STYLES[i % len(LINE_STYLES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{lx}" x2="{lx + 22}" y1="14" y2="14" stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
            f'<text x="{lx + 27}" y="18" class="chart-legend">{escape(line.name)}</text>'
        )
        lx += 40 + 7 * len(line.name)
    if not any(line.points for line in lines):
        parts.append(f'<text x="{left + 8}" y="{top + 20}" class="chart-empty">Nothing to show yet.</text>')
    for i, line in enumerate(lines):
        colour, dash = LINE_STYLES[i % len(LINE_STYLES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        points = sorted(line.points)
        if len(points) > 1:
            coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}>'
                f"<title>{escape(line.name)}</title></polyline>"
            )
        if line.markers or len(points) == 1:
            for x, y in points:
                tip = (line.point_label or "{x}: {y}").format(x=_tick(x), y=f"{y:.3f}")
                parts.append(
                    f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{colour}">'
                    f"<title>{escape(line.name)}, {escape(tip)}</title></circle>"
                )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every interpolated text is escaped above
