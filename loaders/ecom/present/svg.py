"""Small inline-SVG chart builders for the dashboard: no JavaScript library, no network.

Every chart is a string of SVG with a ``viewBox`` (so it scales with the page). Each data
mark carries ``class="mark"`` and a ``data-tip`` text that the page's few lines of
JavaScript show on hover (and a ``<title>`` for browsers without it); the browser tests
count the marks of every panel to prove it is not empty.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from html import escape

Fmt = Callable[[float], str]

WIDTH = 640
#: viewBox width of a chart that spans both columns (same text size as a narrow one).
WIDE_WIDTH = 1320
ACCENT = "#2563eb"
ACCENT_LIGHT = "#bfdbfe"
SECOND = "#f97316"
GRID = "#e5e7eb"
INK = "#374151"
MUTED = "#6b7280"


def fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def fmt_money(x: float) -> str:
    if abs(x) >= 1_000_000:
        return f"{x / 1_000_000:,.2f}M"
    if abs(x) >= 10_000:
        return f"{x / 1_000:,.1f}k"
    return f"{x:,.2f}"


def fmt_pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``top``."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [round(i * step, 12) for i in range(math.ceil(top / step - 1e-9) + 1)]


def _t(x: float) -> str:
    return f"{x:.1f}"


def _mark(shape: str, tip: str, **attrs: str) -> str:
    parts = " ".join(f'{k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return f'<{shape} class="mark" data-tip="{escape(tip)}" {parts}><title>{escape(tip)}</title></{shape}>'


def _svg(height: int, body: list[str], label: str, width: int = WIDTH) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="xMidYMid meet">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, s: str, *, anchor: str = "start", cls: str = "lbl") -> str:
    return f'<text x="{_t(x)}" y="{_t(y)}" text-anchor="{anchor}" class="{cls}">{escape(s)}</text>'


def _y_axis(
    ticks: list[float],
    scale: Callable[[float], float],
    x0: float,
    x1: float,
    fmt: Fmt,
    *,
    right: bool = False,
) -> list[str]:
    out = []
    for tick in ticks:
        y = scale(tick)
        if not right:
            out.append(
                f'<line x1="{_t(x0)}" x2="{_t(x1)}" y1="{_t(y)}" y2="{_t(y)}" stroke="{GRID}"/>'
            )
            out.append(_text(x0 - 6, y + 4, fmt(tick), anchor="end", cls="tick"))
        else:
            out.append(_text(x1 + 6, y + 4, fmt(tick), anchor="start", cls="tick"))
    return out


def _month_labels(days: Sequence[date], xpos: Callable[[int], float], y: float) -> list[str]:
    out = []
    for i, day in enumerate(days):
        if day.day == 1 or i == 0:
            x = xpos(i)
            out.append(
                f'<line x1="{_t(x)}" x2="{_t(x)}" y1="{_t(y - 14)}" y2="{_t(y - 10)}" stroke="{MUTED}"/>'
            )
            out.append(
                _text(x, y, day.strftime("%b %Y" if day.month == 1 or i == 0 else "%b"), cls="tick")
            )
    return out


def daily_bars_and_line(
    days: Sequence[date],
    bars: Sequence[float],
    line: Sequence[float],
    *,
    bar_name: str,
    line_name: str,
    bar_fmt: Fmt = fmt_int,
    line_fmt: Fmt = fmt_money,
    height: int = 260,
    width: int = WIDTH,
) -> str:
    """Bars (right axis) and a line (left axis) over days: e.g. orders and revenue."""
    left, right, top, bottom = 64, 56, 16, 34
    n = len(days)
    plot_w, plot_h = width - left - right, height - top - bottom
    band = plot_w / max(n, 1)
    bar_ticks = nice_ticks(max(bars, default=0))
    line_ticks = nice_ticks(max(line, default=0))

    def ybar(v: float) -> float:
        return top + plot_h - v / bar_ticks[-1] * plot_h

    def yline(v: float) -> float:
        return top + plot_h - v / line_ticks[-1] * plot_h

    def xpos(i: int) -> float:
        return left + i * band

    body = _y_axis(line_ticks, yline, left, width - right, line_fmt)
    body += _y_axis(bar_ticks, ybar, left, width - right, bar_fmt, right=True)
    for i, (day, value) in enumerate(zip(days, bars, strict=True)):
        if value > 0:
            y = ybar(value)
            body.append(
                _mark(
                    "rect",
                    f"{day:%a %d %b %Y}: {bar_fmt(value)} {bar_name}, {line_fmt(line[i])} {line_name}",
                    x=_t(xpos(i) + band * 0.1),
                    y=_t(y),
                    width=_t(max(band * 0.8, 0.8)),
                    height=_t(top + plot_h - y),
                    fill=ACCENT_LIGHT,
                )
            )
    points = " ".join(f"{_t(xpos(i) + band / 2)},{_t(yline(v))}" for i, v in enumerate(line))
    if n:
        body.append(
            _mark(
                "polyline",
                f"{line_name}: {line_fmt(sum(line))} over {n} days",
                points=points,
                fill="none",
                stroke=ACCENT,
                stroke_width="1.6",
            )
        )
    body += _month_labels(days, lambda i: xpos(i) + band / 2, height - 12)
    body.append(
        _legend(left, 10, [(ACCENT, f"{line_name} (left)"), (ACCENT_LIGHT, f"{bar_name} (right)")])
    )
    return _svg(height, body, f"{line_name} and {bar_name} per day", width)


def daily_bars(
    days: Sequence[date],
    values: Sequence[float],
    *,
    name: str,
    fmt: Fmt = fmt_int,
    height: int = 220,
    width: int = WIDTH,
) -> str:
    """One bar per day."""
    left, right, top, bottom = 64, 16, 12, 34
    n = len(days)
    plot_w, plot_h = width - left - right, height - top - bottom
    band = plot_w / max(n, 1)
    ticks = nice_ticks(max(values, default=0))

    def y(v: float) -> float:
        return top + plot_h - v / ticks[-1] * plot_h

    def xpos(i: int) -> float:
        return left + i * band

    body = _y_axis(ticks, y, left, width - right, fmt)
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        if value > 0:
            body.append(
                _mark(
                    "rect",
                    f"{day:%a %d %b %Y}: {fmt(value)} {name}",
                    x=_t(xpos(i) + band * 0.1),
                    y=_t(y(value)),
                    width=_t(max(band * 0.8, 0.8)),
                    height=_t(top + plot_h - y(value)),
                    fill=ACCENT,
                )
            )
    body += _month_labels(days, lambda i: xpos(i) + band / 2, height - 12)
    return _svg(height, body, f"{name} per day", width)


def line_over_periods(
    periods: Sequence[date],
    values: Sequence[float],
    *,
    name: str,
    fmt: Fmt = fmt_pct,
    period_fmt: str = "week of %d %b %Y",
    height: int = 220,
    width: int = WIDTH,
) -> str:
    """A line with a dot per period (e.g. weekly rates)."""
    left, right, top, bottom = 64, 16, 12, 34
    n = len(periods)
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = nice_ticks(max(values, default=0))

    def x(i: int) -> float:
        return left + (i + 0.5) * plot_w / max(n, 1)

    def y(v: float) -> float:
        return top + plot_h - v / ticks[-1] * plot_h

    body = _y_axis(ticks, y, left, width - right, fmt)
    if n:
        points = " ".join(f"{_t(x(i))},{_t(y(v))}" for i, v in enumerate(values))
        body.append(
            f'<polyline points="{points}" fill="none" stroke="{SECOND}" stroke-width="1.6"/>'
        )
    for i, (period, value) in enumerate(zip(periods, values, strict=True)):
        body.append(
            _mark(
                "circle",
                f"{period:{period_fmt}}: {fmt(value)} {name}",
                cx=_t(x(i)),
                cy=_t(y(value)),
                r="3",
                fill=SECOND,
            )
        )
    shown = set()
    for i, period in enumerate(periods):
        middle = date.fromordinal(period.toordinal() + 3)  # a week belongs to its Thursday's month
        if (middle.year, middle.month) not in shown:
            shown.add((middle.year, middle.month))
            body.append(_text(x(i), height - 12, middle.strftime("%b"), cls="tick"))
    return _svg(height, body, f"{name} per period", width)


def hbars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    name: str,
    fmt: Fmt = fmt_int,
    notes: Sequence[str] | None = None,
    tips: Sequence[str] | None = None,
    label_width: int = 190,
    row: int = 24,
    color: str = ACCENT,
    width: int = WIDTH,
) -> str:
    """Horizontal bars, one row per label, value (and an optional note) after each bar."""
    top = 6
    height = top + row * len(labels) + 6
    plot_w = width - label_width - 120
    peak = max(values, default=0) or 1
    body: list[str] = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        body.append(_text(label_width - 8, y + row * 0.65, _clip(label, 30), anchor="end"))
        w = value / peak * plot_w
        tip = tips[i] if tips else f"{label}: {fmt(value)} {name}"
        if value > 0:
            body.append(
                _mark(
                    "rect",
                    tip,
                    x=_t(label_width),
                    y=_t(y + row * 0.15),
                    width=_t(max(w, 1.5)),
                    height=_t(row * 0.7),
                    fill=color,
                )
            )
        note = f"  {notes[i]}" if notes else ""
        body.append(_text(label_width + w + 6, y + row * 0.65, f"{fmt(value)}{note}", cls="val"))
    return _svg(height, body, name, width)


def paired_hbars(
    labels: Sequence[str],
    left_values: Sequence[float],
    right_values: Sequence[float],
    *,
    left_name: str,
    right_name: str,
    left_fmt: Fmt = fmt_int,
    right_fmt: Fmt = fmt_money,
    label_width: int = 150,
    row: int = 24,
    width: int = WIDTH,
) -> str:
    """Two bar columns per label (e.g. customers and revenue per RFM segment)."""
    top = 26
    height = top + row * len(labels) + 6
    half = (width - label_width) / 2
    col_w = half - 130  # room for the value text after the longest bar
    x_left = label_width
    x_right = label_width + half
    peak_l = max(left_values, default=0) or 1
    peak_r = max(right_values, default=0) or 1
    total_l = sum(left_values) or 1
    total_r = sum(right_values) or 1
    body = [
        _text(x_left, 14, left_name, cls="head"),
        _text(x_right, 14, right_name, cls="head"),
    ]
    for i, label in enumerate(labels):
        y = top + i * row
        body.append(_text(label_width - 8, y + row * 0.65, label, anchor="end"))
        for x0, value, peak, total, fmt, colour, what in (
            (x_left, left_values[i], peak_l, total_l, left_fmt, ACCENT, left_name),
            (x_right, right_values[i], peak_r, total_r, right_fmt, SECOND, right_name),
        ):
            w = value / peak * col_w
            share = value / total
            if value > 0:
                body.append(
                    _mark(
                        "rect",
                        f"{label}: {fmt(value)} {what} ({fmt_pct(share)})",
                        x=_t(x0),
                        y=_t(y + row * 0.15),
                        width=_t(max(w, 1.5)),
                        height=_t(row * 0.7),
                        fill=colour,
                    )
                )
            body.append(
                _text(x0 + w + 4, y + row * 0.65, f"{fmt(value)} · {fmt_pct(share)}", cls="val")
            )
    return _svg(height, body, f"{left_name} and {right_name}", width)


def heatmap(
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    cells: dict[tuple[int, int], tuple[float, str]],
    *,
    name: str,
    label_width: int = 150,
    cell_h: int = 26,
    width: int = WIDTH,
) -> str:
    """A grid coloured by value in [0, 1]; ``cells[(row, col)] = (value, tip)``."""
    top = 22
    n_cols = max(len(col_labels), 1)
    cell_w = (width - label_width - 8) / n_cols
    height = top + cell_h * len(row_labels) + 6
    body = [
        _text(label_width + (j + 0.5) * cell_w, 14, c, anchor="middle", cls="tick")
        for j, c in enumerate(col_labels)
    ]
    for i, label in enumerate(row_labels):
        y = top + i * cell_h
        body.append(_text(label_width - 8, y + cell_h * 0.65, label, anchor="end"))
        for j in range(len(col_labels)):
            if (i, j) not in cells:
                continue
            value, tip = cells[(i, j)]
            x = label_width + j * cell_w
            body.append(
                _mark(
                    "rect",
                    tip,
                    x=_t(x + 1),
                    y=_t(y + 1),
                    width=_t(cell_w - 2),
                    height=_t(cell_h - 2),
                    fill=_blue(value),
                )
            )
            ink = "#ffffff" if value > 0.45 else INK
            body.append(
                f'<text x="{_t(x + cell_w / 2)}" y="{_t(y + cell_h * 0.65)}" text-anchor="middle" '
                f'class="cell" fill="{ink}">{escape(fmt_pct(value))}</text>'
            )
    return _svg(height, body, name, width)


def _blue(value: float) -> str:
    """White (0) to deep blue (1), on a square-root scale so small retention rates still show."""
    v = math.sqrt(min(max(value, 0.0), 1.0))
    start, end = (239, 246, 255), (30, 64, 175)
    r, g, b = (round(s + (e - s) * v) for s, e in zip(start, end, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _legend(x: float, y: float, items: list[tuple[str, str]]) -> str:
    out = []
    for colour, label in items:
        out.append(f'<rect x="{_t(x)}" y="{_t(y - 8)}" width="10" height="10" fill="{colour}"/>')
        out.append(_text(x + 14, y + 1, label, cls="tick"))
        x += 22 + 6.5 * len(label)
    return "".join(out)


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
