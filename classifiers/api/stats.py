"""Figures of the classification log: calls per hour and latency percentiles per slot, and
their server-side SVG charts (no JavaScript; the strict CSP forbids ``style=``, so colours
are CSS classes and SVG presentation attributes).

Percentiles are computed in the database from a latency histogram (log-spaced bins, 25%
wide), which works the same on SQLite and PostgreSQL and costs one grouped query however
many calls there were; a percentile is the geometric middle of its bin (within ~12%).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from classifiers.models import ApiCall, Project

RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}
SYNC_ENDPOINTS = ("classify",)
# Bin k holds latencies in [EDGES[k-1], EDGES[k]); bin 0 everything under EDGES[0].
EDGES = [0.25 * 1.25**k for k in range(60)]  # 0.25 ms .. ~120 s


@dataclass
class HourPoint:
    hour: datetime
    calls: int = 0
    errors: int = 0
    documents: int = 0
    p50: float | None = None
    p95: float | None = None


def calls_since(project: Project, since: datetime) -> dict[str, int]:
    """slot -> number of calls since ``since`` (one grouped query)."""
    rows = (
        ApiCall.objects.filter(project=project, created_at__gte=since)
        .exclude(slot="")
        .values("slot")
        .annotate(n=Count("id"))
    )
    return {row["slot"]: row["n"] for row in rows}


def _bin_expression() -> Case:
    whens = [When(latency_ms__lt=edge, then=Value(k)) for k, edge in enumerate(EDGES)]
    return Case(*whens, default=Value(len(EDGES)), output_field=IntegerField())


def _bin_value(k: int) -> float:
    if k <= 0:
        return EDGES[0] / 2
    if k >= len(EDGES):
        return EDGES[-1]
    return math.sqrt(EDGES[k - 1] * EDGES[k])


def percentile(histogram: dict[int, int], q: float) -> float | None:
    total = sum(histogram.values())
    if not total:
        return None
    rank = q * total
    seen = 0
    for k in sorted(histogram):
        seen += histogram[k]
        if seen >= rank:
            return _bin_value(k)
    return _bin_value(max(histogram))


def hourly(project: Project, slot: str, range_key: str, now: datetime | None = None) -> list[HourPoint]:
    now = now or timezone.now()
    span = RANGES[range_key]
    start = (now - span).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    calls: QuerySet = ApiCall.objects.filter(project=project, slot=slot, created_at__gte=start)
    points = {
        start + timedelta(hours=h): HourPoint(start + timedelta(hours=h))
        for h in range(int(span / timedelta(hours=1)))
    }
    rows = (
        calls.annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(n=Count("id"), errors=Count("id", filter=Q(status_code__gte=400)), d=Sum("documents"))
    )
    for row in rows:
        point = points.get(_aware(row["hour"]))
        if point is not None:
            point.calls, point.errors, point.documents = row["n"], row["errors"], row["d"] or 0
    histograms: dict[datetime, dict[int, int]] = {}
    latency_rows = (
        calls.filter(endpoint__in=SYNC_ENDPOINTS, status_code=200)
        .annotate(hour=TruncHour("created_at"), bin=_bin_expression())
        .values("hour", "bin")
        .annotate(n=Count("id"))
    )
    for row in latency_rows:
        histograms.setdefault(_aware(row["hour"]), {})[row["bin"]] = row["n"]
    for hour, histogram in histograms.items():
        point = points.get(hour)
        if point is not None:
            point.p50, point.p95 = percentile(histogram, 0.5), percentile(histogram, 0.95)
    return [points[h] for h in sorted(points)]


def summary(project: Project, slot: str, since: datetime) -> dict[str, float | int | None]:
    """Calls, documents, p50 and p95 latency of synchronous calls since ``since``."""
    calls = ApiCall.objects.filter(project=project, slot=slot, created_at__gte=since)
    totals = calls.aggregate(
        n=Count("id"), docs=Sum("documents"), errors=Count("id", filter=Q(status_code__gte=400))
    )
    histogram = {
        row["bin"]: row["n"]
        for row in calls.filter(endpoint__in=SYNC_ENDPOINTS, status_code=200)
        .annotate(bin=_bin_expression())
        .values("bin")
        .annotate(n=Count("id"))
    }
    return {
        "calls": totals["n"],
        "documents": totals["docs"] or 0,
        "errors": totals["errors"],
        "p50": percentile(histogram, 0.5),
        "p95": percentile(histogram, 0.95),
    }


def _aware(value: datetime) -> datetime:
    if timezone.is_naive(value):
        return timezone.make_aware(value, timezone.get_current_timezone())
    return value


# --- Charts -----------------------------------------------------------------------------------------
WIDTH, LEFT, RIGHT, TOP, BOTTOM = 720, 48, 12, 22, 26


def _x_labels(points: list[HourPoint], plot_w: float, step: float, height: int) -> list[str]:
    every = 6 if len(points) <= 24 else 24
    out = []
    for i, p in enumerate(points):
        if i % every == 0:
            local = timezone.localtime(p.hour)
            label = local.strftime("%H:%M") if every == 6 else local.strftime("%d %b")
            x = LEFT + i * step
            out.append(f'<text x="{x:.1f}" y="{height - 8}" class="chart-value">{escape(label)}</text>')
    return out


def _frame(title: str, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{height - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{height - BOTTOM}" class="api-axis"/>',
    ]


def calls_chart(points: list[HourPoint], title: str, height: int = 170) -> SafeString:
    parts = _frame(title, height)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    peak = max((p.calls for p in points), default=0)
    step = plot_w / max(1, len(points))
    if not peak:
        parts.append(
            f'<text x="{LEFT + 8}" y="{TOP + plot_h / 2:.0f}" class="chart-empty">No calls in this period.</text>'
        )
    else:
        parts.append(
            f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" class="chart-value">{peak:,}</text>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{height - BOTTOM}" text-anchor="end" class="chart-value">0</text>'
        )
        for i, p in enumerate(points):
            if not p.calls:
                continue
            h = max(1.0, plot_h * p.calls / peak)
            x = LEFT + i * step + 1
            when = timezone.localtime(p.hour).strftime("%Y-%m-%d %H:00")
            tip = f"{when}: {p.calls:,} calls, {p.documents:,} documents, {p.errors:,} errors"
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(1.0, step - 2):.1f}" height="{h:.1f}" '
                f'class="api-bar{" has-errors" if p.errors else ""}"><title>{escape(tip)}</title></rect>'
            )
    parts += _x_labels(points, plot_w, step, height)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every interpolated text is escaped above


def latency_chart(points: list[HourPoint], title: str, height: int = 170) -> SafeString:
    parts = _frame(title, height)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    peak = max((p.p95 for p in points if p.p95 is not None), default=0.0)
    step = plot_w / max(1, len(points))
    # Legend.
    parts.append(
        f'<line x1="{LEFT}" y1="10" x2="{LEFT + 18}" y2="10" class="api-p50"/>'
        f'<text x="{LEFT + 22}" y="14" class="chart-legend">p50</text>'
        f'<line x1="{LEFT + 60}" y1="10" x2="{LEFT + 78}" y2="10" class="api-p95"/>'
        f'<text x="{LEFT + 82}" y="14" class="chart-legend">p95 (ms, synchronous classify)</text>'
    )
    if not peak:
        parts.append(
            f'<text x="{LEFT + 8}" y="{TOP + plot_h / 2:.0f}" class="chart-empty">No synchronous calls in this period.</text>'
        )
    else:
        parts.append(
            f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" class="chart-value">{peak:,.1f}</text>'
            f'<text x="{LEFT - 6}" y="{height - BOTTOM}" text-anchor="end" class="chart-value">0</text>'
        )
        for attr, css in (("p50", "api-p50"), ("p95", "api-p95")):
            segment: list[str] = []
            segments: list[list[str]] = []
            for i, p in enumerate(points):
                value = getattr(p, attr)
                if value is None:
                    if segment:
                        segments.append(segment)
                    segment = []
                    continue
                x = LEFT + i * step + step / 2
                y = TOP + plot_h - plot_h * value / peak
                segment.append(f"{x:.1f},{y:.1f}")
            if segment:
                segments.append(segment)
            for seg in segments:
                if len(seg) == 1:
                    x, y = seg[0].split(",")
                    parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" class="{css}-dot"/>')
                else:
                    parts.append(f'<polyline points="{" ".join(seg)}" class="{css}"/>')
    parts += _x_labels(points, plot_w, step, height)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # only numbers and escaped text are interpolated
