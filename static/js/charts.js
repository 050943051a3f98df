// The one place every chart gets its look: band colours (the CSS custom properties of static/css/app.css, so a
// band is the same colour in a chart, a table swatch and a badge), fill patterns that tell bands and series apart
// without colour, line dashes and point shapes, money and percent formats, direct value labels, and the text a
// screen reader hears for the canvas. Page scripts (static/js/*_charts.js) describe their data and call it.
// A plain script (no build step): load it after vendor/chart.umd.js and before the page script, both `defer`.
(function () {
  "use strict";
  if (window.CSCharts) {
    // A page with two chart panels loads vendor/chart.umd.js twice, each followed by this file. Keep the first
    // Chart: its registry holds the charts drawn so far, so Chart.getChart() finds every one and none is drawn twice.
    if (window.CSCharts.Chart) window.Chart = window.CSCharts.Chart;
    return;
  }

  // Same values as app.css; used when a page lacks the stylesheet (an email preview, a test page).
  var BAND_FALLBACK = { green: "#067647", amber: "#b54708", red: "#b42318", none: "#667085" };
  // The health app calls the middle band "yellow"; the palette names its colour amber.
  var BAND_ALIAS = { yellow: "amber" };
  var BAND_PATTERN = { green: "solid", amber: "stripes", red: "crosshatch", none: "dashes" };
  var BAND_POINT = { green: "circle", amber: "triangle", red: "rectRot", none: "crossRot" };
  // Series that are not bands (forecast categories, GRR/NRR, churn vs downsell): hues away from the band
  // colours, each with its own pattern, dash and point shape so that no two series differ by hue alone.
  // The fifth (magenta, cross-hatched) is kept for what is lost or at risk.
  var SERIES = ["#2451b7", "#6941c6", "#0e7490", "#475467", "#9e165f", "#1d2939"];
  var SERIES_PATTERN = ["solid", "stripes", "dots", "dashes", "crosshatch", "backslash"];
  var SERIES_DASH = [[], [6, 4], [2, 3], [4, 2], [10, 3, 2, 3], [1, 4]];
  var SERIES_POINT = ["circle", "triangle", "rect", "crossRot", "rectRot", "star"];
  var TILE = 10;

  function cssVar(name, fallback) {
    var value = window.getComputedStyle(document.documentElement).getPropertyValue(name);
    return (value && value.trim()) || fallback;
  }

  function bandKey(band) {
    band = String(band || "none").toLowerCase();
    band = BAND_ALIAS[band] || band;
    return BAND_FALLBACK[band] ? band : "none";
  }

  function bandColour(band) {
    var key = bandKey(band);
    return cssVar("--band-" + key, BAND_FALLBACK[key]);
  }

  function seriesColour(i) {
    return SERIES[i % SERIES.length];
  }

  function theme() {
    return { text: cssVar("--fg", "#1d2330"), muted: cssVar("--muted", "#5b6475"), line: cssVar("--line", "#dde1ea"),
             card: cssVar("--card", "#ffffff") };
  }

  // Draws one pattern tile: the colour underneath, light marks on top. Built once per colour and kind.
  var tileCache = {}, patternCache = {};
  function tile(colour, kind) {
    var key = colour + "|" + kind;
    if (tileCache[key]) return tileCache[key];
    var ratio = Math.max(1, Math.round(window.devicePixelRatio || 1));
    var size = TILE * ratio;
    var canvas = document.createElement("canvas");
    canvas.width = size;
    canvas.height = size;
    var ctx = canvas.getContext("2d");
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = "rgba(255, 255, 255, 0.7)";
    ctx.fillStyle = "rgba(255, 255, 255, 0.75)";
    ctx.lineWidth = 1.6 * ratio;
    ctx.lineCap = "square";
    var line = function (x1, y1, x2, y2) { ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke(); };
    var half = size / 2, past = size * 1.5; // stripes run past the corners so that tiles join without gaps
    if (kind === "stripes") { // "/"
      line(-half, half, half, -half); line(0, size, size, 0); line(half, past, past, half);
    } else if (kind === "backslash") { // "\"
      line(-half, half, half, past); line(0, 0, size, size); line(half, -half, past, half);
    } else if (kind === "crosshatch") {
      line(0, size, size, 0); line(0, 0, size, size);
    } else if (kind === "dots") {
      ctx.beginPath(); ctx.arc(size / 4, size / 4, 1.6 * ratio, 0, 2 * Math.PI); ctx.fill();
      ctx.beginPath(); ctx.arc(size * 3 / 4, size * 3 / 4, 1.6 * ratio, 0, 2 * Math.PI); ctx.fill();
    } else if (kind === "dashes") {
      line(size * 0.1, size * 0.3, size * 0.5, size * 0.3); line(size * 0.6, size * 0.8, size * 0.9, size * 0.8);
    }
    tileCache[key] = { canvas: canvas, ratio: ratio };
    return tileCache[key];
  }

  function pattern(colour, kind) {
    var key = colour + "|" + kind;
    if (patternCache[key]) return patternCache[key];
    var made = tile(colour, kind), ratio = made.ratio;
    var result = made.canvas.getContext("2d").createPattern(made.canvas, "repeat");
    if (ratio > 1 && result.setTransform && window.DOMMatrix) {
      result.setTransform(new window.DOMMatrix().scale(1 / ratio)); // Chart.js scales the context by the ratio
    }
    patternCache[key] = result;
    return result;
  }

  function bandFill(band) {
    var key = bandKey(band);
    return pattern(bandColour(key), BAND_PATTERN[key]);
  }

  function seriesFill(i) {
    return pattern(seriesColour(i), SERIES_PATTERN[i % SERIES_PATTERN.length]);
  }

  // Legend swatches in the page's own tables (<span class="swatch" data-swatch-band="red"> or
  // data-swatch-series="2">) get the chart's colour and pattern, so a table row and its bar look alike.
  function paintSwatches(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("[data-swatch-band], [data-swatch-series]").forEach(function (el) {
      var band = el.getAttribute("data-swatch-band"), i = Number(el.getAttribute("data-swatch-series"));
      var colour = band ? bandColour(band) : seriesColour(i);
      var kind = band ? BAND_PATTERN[bandKey(band)] : SERIES_PATTERN[i % SERIES_PATTERN.length];
      var made = tile(colour, kind);
      el.style.background = colour + ' url("' + made.canvas.toDataURL() + '")';
      el.style.backgroundSize = TILE + "px " + TILE + "px";
    });
  }

  // ---- numbers in words ----
  var locale = document.documentElement.lang || undefined;

  function number(value, digits) {
    if (value === null || value === undefined || isNaN(value)) return "no data";
    return Number(value).toLocaleString(locale, { maximumFractionDigits: digits || 0 });
  }

  // "12,345 USD" as the pages print money (the ISO code after the amount: "$" is USD, CAD and AUD alike);
  // compact ("283.1K") for axis ticks and labels on bars, whose axis title names the currency.
  function money(value, currency, compact) {
    if (value === null || value === undefined || isNaN(value)) return "no data";
    var text = compact ? Number(value).toLocaleString(locale, { notation: "compact", maximumFractionDigits: 1 })
      : number(value);
    return currency ? text + " " + currency : text;
  }

  function percent(value, digits) {
    if (value === null || value === undefined || isNaN(value)) return "no data";
    return number(value, digits === undefined ? 1 : digits) + "%";
  }

  function formatter(format, currency) {
    if (format === "money") return function (v) { return money(v, currency); };
    if (format === "percent") return function (v) { return percent(v); };
    return function (v) { return number(v); };
  }

  // ---- the text alternative ----
  // Sets role="img" and an aria-label made of the template's own label (what the chart is) and a summary of
  // the numbers. The tables next to each chart stay the full text alternative.
  function describe(canvas, summary) {
    if (!canvas.dataset.baseLabel) canvas.dataset.baseLabel = canvas.getAttribute("aria-label") || "Chart";
    canvas.setAttribute("role", "img");
    var base = canvas.dataset.baseLabel.replace(/[.;\s]+$/, "");
    canvas.setAttribute("aria-label", summary ? base + ". " + summary : base);
  }

  // "GRR %: 94% (Q1 2024) to 97% (Q4 2024), lowest 91% (Q2 2024)" for each line.
  function summariseLines(labels, datasets, format) {
    return datasets.map(function (ds) {
      var points = [];
      ds.data.forEach(function (v, i) { if (v !== null && v !== undefined) points.push({ v: v, label: labels[i] }); });
      if (!points.length) return ds.label + ": no data";
      var first = points[0], last = points[points.length - 1], low = first, high = first;
      points.forEach(function (p) { if (p.v < low.v) low = p; if (p.v > high.v) high = p; });
      var text = ds.label + ": " + format(first.v) + " (" + first.label + ")";
      if (points.length > 1) {
        text += " to " + format(last.v) + " (" + last.label + "), lowest " + format(low.v) + " (" + low.label +
          "), highest " + format(high.v) + " (" + high.label + ")";
      }
      return text;
    }).join("; ") + ".";
  }

  // "Jan 2025: Commit 10,000, Pipeline 5,000; Feb 2025: ..." (zeros left out), or the last few columns only.
  function summariseStacks(labels, datasets, format, lastOnly) {
    var from = lastOnly ? Math.max(0, labels.length - lastOnly) : 0;
    var parts = [];
    for (var i = from; i < labels.length; i++) {
      var values = datasets.filter(function (ds) { return ds.data[i]; })
        .map(function (ds) { return ds.label + " " + format(ds.data[i]); });
      parts.push(labels[i] + ": " + (values.length ? values.join(", ") : "none"));
    }
    return parts.join("; ") + ".";
  }

  // ---- direct labels: the value (or share) written on each bar segment or doughnut slice that has room ----
  function drawLabel(ctx, text, x, y, colours) {
    var width = ctx.measureText(text).width + 6, height = 14;
    ctx.fillStyle = colours.card;
    ctx.globalAlpha = 0.9;
    ctx.fillRect(x - width / 2, y - height / 2, width, height);
    ctx.globalAlpha = 1;
    ctx.fillStyle = colours.text;
    ctx.fillText(text, x, y + 0.5);
    return width;
  }

  var valueLabels = {
    id: "csValueLabels",
    afterDatasetsDraw: function (chart, args, options) {
      if (!options || !options.format) return;
      var ctx = chart.ctx, colours = theme();
      ctx.save();
      ctx.font = "600 11px " + (window.Chart.defaults.font.family || "sans-serif");
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      var horizontal = chart.options.indexAxis === "y";
      chart.data.datasets.forEach(function (ds, d) {
        var meta = chart.getDatasetMeta(d);
        if (meta.hidden || !chart.isDatasetVisible(d)) return;
        meta.data.forEach(function (el, i) {
          var value = ds.data[i];
          if (!value) return;
          var text = options.format(value, i, d, chart);
          if (!text) return;
          var need = ctx.measureText(text).width + 8;
          if (meta.type === "doughnut" || meta.type === "pie") {
            var arc = el.getProps(["startAngle", "endAngle", "outerRadius", "innerRadius"], true);
            var length = (arc.endAngle - arc.startAngle) * (arc.outerRadius + arc.innerRadius) / 2;
            if (length < need || arc.outerRadius - arc.innerRadius < 16) return;
            var at = el.tooltipPosition(true);
            drawLabel(ctx, text, at.x, at.y, colours);
            return;
          }
          var bar = el.getProps(["x", "y", "base", "width", "height"], true);
          var across = horizontal ? Math.abs(bar.x - bar.base) : Math.abs(bar.base - bar.y);
          var thick = horizontal ? bar.height : bar.width;
          if ((horizontal ? across : thick) < need || (horizontal ? thick : across) < 16) return;
          var x = horizontal ? (bar.x + bar.base) / 2 : bar.x, y = horizontal ? bar.y : (bar.y + bar.base) / 2;
          drawLabel(ctx, text, x, y, colours);
        });
      });
      ctx.restore();
    },
  };

  // ---- options shared by every chart ----
  function axisTicks(format) {
    if (format === "money") return function (v) { return money(v, null, true); };
    if (format === "percent") return function (v) { return number(v, 1) + "%"; };
    return undefined;
  }

  // opts: format ("money", "percent", "count": ticks and tooltips), currency (money: tooltips, the value axis's
  // title), stacked, horizontal (bars along x), valueTitle, indexTitle, min, max, beginAtZero (default true),
  // maxTicks, legend (default shown), pointLegend (lines: the legend shows point shapes), labels (a function
  // (value, i, datasetIndex, chart) -> the text to write on a bar or slice, or null).
  function options(opts) {
    opts = opts || {};
    var colours = theme();
    var fmt = formatter(opts.format, opts.currency);
    var valueAxis = opts.horizontal ? "x" : "y", indexAxis = opts.horizontal ? "y" : "x";
    var valueTitle = opts.valueTitle && opts.format === "money" && opts.currency
      ? opts.valueTitle + " (" + opts.currency + ")" : opts.valueTitle;
    var scales = {};
    scales[valueAxis] = {
      stacked: !!opts.stacked, beginAtZero: opts.beginAtZero !== false,
      grid: { color: colours.line }, ticks: { color: colours.muted, callback: axisTicks(opts.format) },
      title: { display: !!valueTitle, text: valueTitle || "", color: colours.muted },
    };
    if (opts.format === "count") scales[valueAxis].ticks.precision = 0;
    if (opts.min !== undefined) scales[valueAxis].min = opts.min;
    if (opts.max !== undefined) scales[valueAxis].max = opts.max;
    scales[indexAxis] = {
      stacked: !!opts.stacked, grid: { display: false },
      ticks: { color: colours.muted, autoSkip: true, maxTicksLimit: opts.maxTicks || 12 },
      title: { display: !!opts.indexTitle, text: opts.indexTitle || "", color: colours.muted },
    };
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      indexAxis: indexAxis,
      interaction: { mode: "index", intersect: false },
      scales: scales,
      plugins: {
        legend: {
          display: opts.legend !== false, position: "bottom",
          labels: { color: colours.text, usePointStyle: !!opts.pointLegend, boxWidth: 18, boxHeight: 12,
                    padding: 14 },
        },
        tooltip: {
          callbacks: {
            label: function (ctx) {
              var value = opts.horizontal ? ctx.parsed.x : ctx.parsed.y;
              return " " + ctx.dataset.label + ": " + fmt(value);
            },
          },
        },
        csValueLabels: opts.labels ? { format: opts.labels } : false,
      },
    };
  }

  // Line datasets: series i gets its colour, dash and point shape.
  function lineSeries(i, label, data, extra) {
    var colour = seriesColour(i);
    var ds = {
      label: label, data: data, borderColor: colour, backgroundColor: colour, borderWidth: 2,
      borderDash: SERIES_DASH[i % SERIES_DASH.length], pointStyle: SERIES_POINT[i % SERIES_POINT.length],
      pointRadius: 4, pointHoverRadius: 6, spanGaps: true, tension: 0.15,
    };
    return Object.assign(ds, extra || {});
  }

  // Bar datasets: a band ("green") or a series index (0, 1, ...) picks colour and pattern.
  function barSeries(which, label, data, extra) {
    var isBand = typeof which === "string";
    var ds = {
      label: label, data: data, backgroundColor: isBand ? bandFill(which) : seriesFill(which),
      borderColor: isBand ? bandColour(which) : seriesColour(which), borderWidth: 1,
    };
    return Object.assign(ds, extra || {});
  }

  // Draws once per canvas (a page that loads twice, an HTMX swap that brings the same one back); the summary
  // becomes part of the canvas's aria-label.
  function create(canvas, config, summary) {
    var Chart = window.Chart;
    if (!Chart || !canvas || Chart.getChart(canvas)) return null;
    Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily || Chart.defaults.font.family;
    Chart.defaults.color = theme().muted;
    config.plugins = (config.plugins || []).concat([valueLabels]);
    describe(canvas, summary);
    return new Chart(canvas, config);
  }

  function readJson(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  // The GRR/NRR trend: the forecast and retention pages draw the same chart from the same data shape.
  function retentionTrend(canvas, trend) {
    if (!canvas || !trend || !trend.labels || !trend.labels.length) return null;
    var datasets = [lineSeries(0, "GRR %", trend.grr), lineSeries(1, "NRR %", trend.nrr)];
    var opts = options({ format: "percent", beginAtZero: false, pointLegend: true,
                         valueTitle: "% of starting ARR" });
    return create(canvas, { type: "line", data: { labels: trend.labels, datasets: datasets }, options: opts },
                  summariseLines(trend.labels, datasets, function (v) { return percent(v); }));
  }

  // register("canvas[data-x]", draw): draw(canvas) for each match now and in content HTMX swaps in later.
  var drawers = [];
  function run(root, entry) {
    var scope = root || document;
    var matches = scope.querySelectorAll ? Array.prototype.slice.call(scope.querySelectorAll(entry.selector)) : [];
    if (scope.matches && scope.matches(entry.selector)) matches.unshift(scope);
    matches.forEach(function (canvas) {
      if (window.Chart && !window.Chart.getChart(canvas)) entry.draw(canvas);
    });
  }
  function register(selector, draw) {
    var entry = { selector: selector, draw: draw };
    drawers.push(entry);
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () { run(document, entry); });
    } else {
      run(document, entry);
    }
  }
  document.addEventListener("htmx:load", function (event) {
    drawers.forEach(function (entry) { run(event.detail.elt, entry); });
    paintSwatches(event.detail.elt);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { paintSwatches(document); });
  } else {
    paintSwatches(document);
  }

  window.CSCharts = {
    Chart: window.Chart,
    bandKey: bandKey, bandColour: bandColour, bandFill: bandFill,
    bandPoint: function (band) { return BAND_POINT[bandKey(band)]; },
    seriesColour: seriesColour, seriesFill: seriesFill, pattern: pattern, paintSwatches: paintSwatches,
    money: money, percent: percent, number: number, formatter: formatter, theme: theme,
    describe: describe, summariseLines: summariseLines, summariseStacks: summariseStacks,
    options: options, lineSeries: lineSeries, barSeries: barSeries, create: create, readJson: readJson,
    retentionTrend: retentionTrend, register: register,
  };
})();
