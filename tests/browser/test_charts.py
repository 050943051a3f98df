"""The shared chart look (static/js/charts.js) in a real browser, on a bare page with the app's own Chart.js and
stylesheet: no server and no database, so each test takes well under a second. The pages that use it are covered
by their own browser tests and by test_accessibility.py, which waits for every chart to be drawn."""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "static"
BANDS = ["green", "yellow", "red", "none"]


def _blank(page, *, stylesheet=True, body=""):
    page.set_content(f'<!doctype html><html lang="en"><head></head><body>{body}</body></html>')
    if stylesheet:
        page.add_style_tag(path=str(STATIC / "css" / "app.css"))
    vendor = STATIC / "vendor" / "chart.umd.js"
    if not vendor.exists():
        pytest.fail(f"{vendor} is missing: run `make install` (npm ci, then the copy into static/vendor)")
    page.add_script_tag(path=str(vendor))
    page.add_script_tag(path=str(STATIC / "js" / "charts.js"))


def test_it_takes_the_band_colours_from_the_stylesheet_and_has_the_same_ones_without_it(page):
    _blank(page)
    from_css = page.evaluate("""() => ['green', 'amber', 'red', 'none'].map(
        b => getComputedStyle(document.documentElement).getPropertyValue('--band-' + b).trim())""")
    assert all(from_css), "app.css defines --band-green/amber/red/none"
    # The health app's "yellow" band is the palette's amber.
    assert page.evaluate(f"() => {json.dumps(BANDS)}.map(CSCharts.bandColour)") == from_css

    _blank(page, stylesheet=False)
    assert page.evaluate("() => getComputedStyle(document.documentElement).getPropertyValue('--band-red')") == ""
    assert page.evaluate(f"() => {json.dumps(BANDS)}.map(CSCharts.bandColour)") == from_css


def test_it_tells_the_bands_apart_without_colour(page):
    _blank(page)
    # Each band's fill, painted on a small canvas and reduced to grey levels: what a reader who cannot tell the
    # hues apart (or a greyscale print) gets.
    greys = page.evaluate(f"""() => {json.dumps(BANDS)}.map(band => {{
        const canvas = document.createElement('canvas'); canvas.width = canvas.height = 20;
        const ctx = canvas.getContext('2d'); ctx.fillStyle = CSCharts.bandFill(band); ctx.fillRect(0, 0, 20, 20);
        const px = ctx.getImageData(0, 0, 20, 20).data, out = [];
        for (let i = 0; i < px.length; i += 4) out.push(Math.round(0.3 * px[i] + 0.59 * px[i + 1] + 0.11 * px[i + 2]));
        return out; }})""")
    green, amber, red, none = greys
    assert len(set(green)) == 1, "green is the plain fill"
    for name, pixels in (("amber", amber), ("red", red), ("none", none)):
        assert len(set(pixels)) > 1, f"{name} carries a pattern"
    # Pixel by pixel, no two bands give the same grey picture.
    assert len({tuple(p) for p in greys}) == 4


def test_it_writes_a_summary_of_the_numbers_into_the_charts_label(page):
    data = {
        "labels": ["Oct 2026", "Nov 2026"],
        "series": [{"label": "Commit", "values": [0, 283070]}, {"label": "At risk", "values": [1200, 0]}],
    }
    _blank(
        page,
        body='<div class="chart-box"><canvas id="x-chart" aria-label="Bar chart of ARR per category; '
        'the table below has the same numbers"></canvas></div>',
    )
    label = page.evaluate(
        """(data) => {
        const C = CSCharts, canvas = document.getElementById('x-chart');
        const datasets = data.series.map((s, i) => C.barSeries(i, s.label, s.values));
        const chart = C.create(canvas, {type: 'bar', data: {labels: data.labels, datasets},
                                        options: C.options({format: 'money', currency: 'USD', stacked: true})},
                               C.summariseStacks(data.labels, datasets, C.formatter('money', 'USD')));
        return !!chart && canvas.getAttribute('role') + ' | ' + canvas.getAttribute('aria-label'); }""",
        data,
    )
    assert label == (
        "img | Bar chart of ARR per category; the table below has the same numbers. "
        "Oct 2026: At risk 1,200 USD; Nov 2026: Commit 283,070 USD."
    )


def test_it_draws_a_chart_that_htmx_swaps_in_and_paints_table_swatches_like_the_bars(page):
    _blank(page, body='<div id="panel"></div><span class="swatch" data-swatch-band="red"></span>')
    page.evaluate("""() => {
        CSCharts.register('canvas[data-x-chart]', canvas => CSCharts.create(canvas,
            {type: 'line', data: {labels: ['a', 'b'], datasets: [CSCharts.lineSeries(0, 'ARR', [1, 2])]},
             options: CSCharts.options({format: 'count'})}, 'ARR from 1 to 2.'));
        const panel = document.getElementById('panel');
        panel.innerHTML = '<div class="chart-box"><canvas data-x-chart aria-label="ARR"></canvas></div>';
        document.dispatchEvent(new CustomEvent('htmx:load', {detail: {elt: panel}})); }""")
    assert page.evaluate("() => !!Chart.getChart(document.querySelector('canvas[data-x-chart]'))")
    swatch = page.evaluate("() => getComputedStyle(document.querySelector('.swatch')).backgroundImage")
    assert swatch.startswith('url("data:image/png')
