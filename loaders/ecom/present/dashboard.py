"""``ecom dashboard --out report.html``: the dashboard's charts as one self-contained file.

The charts are the Vega-Lite specs of :mod:`ecom.present.charts` (the app draws the same),
embedded with their data; Vega, Vega-Lite and vega-embed are inlined from the bundle that
``vl-convert-python`` ships, so the file fetches nothing (no CDN) and opens from disk with
no network. The marts are read read-only; a panel whose mart is missing or empty says so
(and what to run) instead of a chart.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from ecom.present import figures as F
from ecom.present.filters import Filters
from ecom.present.kpis import formatted
from ecom.present.marts import MARTS_SCHEMA, connect_marts
from ecom.present.panels import PAGES, PanelResult, of_page

#: Panels the report leaves out: the product list needs a category picked (the app's drill-down).
APP_ONLY = ("category-products",)


@dataclass
class DashboardResult:
    path: Path
    panels: list[str]
    figures: dict[str, Any] = field(default_factory=dict)
    #: chart id -> why it has no chart
    empty_panels: dict[str, str] = field(default_factory=dict)


@functools.cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script (from vl-convert-python, no network)."""
    import vl_convert

    return vl_convert.javascript_bundle(
        "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"
    )


def build_panels(con: Any, filters: Filters) -> list[PanelResult]:
    return [
        panel.build(con, filters)
        for page in PAGES
        for panel in of_page(page)
        if panel.chart_id not in APP_ONLY
    ]


CSS = """
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--ink); background: var(--bg); }
header { padding: 20px 28px 8px; } h1 { margin: 0 0 4px; font-size: 22px; }
header p, footer { color: var(--muted); } footer { padding: 0 28px 24px; font-size: 12px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; padding: 12px 28px; }
.kpi { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.kpi .name { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.kpi .value { font-size: 22px; font-weight: 600; }
h2.page { margin: 18px 28px 0; font-size: 17px; text-transform: capitalize; }
main { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; padding: 8px 28px 8px; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
.panel .source { margin: 4px 0 0; color: var(--muted); font-size: 12px; }
.panel.empty { border-color: #dc2626; } .vega { width: 100%; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
"""

# Embeds every spec; the body's data-ready attribute is set once all have rendered.
EMBED = """
(function () {
  var specs = JSON.parse(document.getElementById('specs').textContent);
  var ids = Object.keys(specs);
  Promise.all(ids.map(function (id) {
    return vegaEmbed('#chart-' + id, specs[id], {renderer: 'svg', actions: false});
  })).then(function () {
    document.body.setAttribute('data-ready', String(ids.length));
  }).catch(function (err) {
    document.body.setAttribute('data-error', String(err));
    console.error(err);
  });
})();
"""


def _panel_html(result: PanelResult) -> str:
    p = result.panel
    if result.chart is None:
        body = f'<p class="nodata">{escape(result.message)}</p>'
        return f'<section class="panel empty" data-chart="{p.chart_id}">{body}</section>'
    return (
        f'<section class="panel" data-chart="{p.chart_id}"><div class="vega" id="chart-{p.chart_id}"></div>'
        f'<p class="source">source: {escape(p.source)}</p></section>'
    )


def render_page(results: list[PanelResult], figures: dict[str, Any], source: str) -> str:
    """The whole report as one HTML string."""
    kpis = "".join(
        f'<div class="kpi" data-kpi="{key}"><div class="name">{escape(label)}</div>'
        f'<div class="value">{escape(text)}</div></div>'
        for key, label, text in formatted(figures)
    )
    pages = "".join(
        f'<h2 class="page">{page}</h2><main>'
        + "".join(_panel_html(r) for r in results if r.panel.page == page)
        + "</main>"
        for page in PAGES
        if any(r.panel.page == page for r in results)
    )
    specs = {r.panel.chart_id: r.spec() for r in results if r.chart is not None}
    specs_json = json.dumps(specs, default=str).replace("</", "<\\/")
    built = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>ecom: e-commerce clickstream marts</title>"
        f"<style>{CSS}</style></head><body>"
        "<header><h1>E-commerce clickstream: the marts at a glance</h1>"
        f"<p>schema <code>{MARTS_SCHEMA}</code> of {escape(source)} · built {built}</p></header>"
        f'<div class="kpis">{kpis}</div>{pages}'
        "<footer>Written by <code>ecom dashboard</code>; one file, no network. The same charts, with "
        "filters and drill-down: <code>ecom dashboard serve</code>.</footer>"
        f'<script type="application/json" id="specs">{specs_json}</script>'
        f"<script>{vega_bundle()}</script><script>{EMBED}</script></body></html>\n"
    )


def build_dashboard(out: Path, *, db_path: Path | None = None) -> DashboardResult:
    """Write the report to ``out`` from the marts of the warehouse at ``db_path``."""
    with connect_marts(db_path) as (con, source):
        results = build_panels(con, Filters())
        try:
            figures = F.headline(con, Filters())
        except F.Unavailable:
            figures = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_page(results, figures, source), encoding="utf-8")
    return DashboardResult(
        path=out,
        panels=[r.panel.chart_id for r in results],
        figures=figures,
        empty_panels={r.panel.chart_id: r.message for r in results if r.chart is None},
    )
