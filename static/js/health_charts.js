// Health trend charts: <canvas data-health-chart="ID"> is drawn from <script type="application/json" id="ID">
// ({labels, scores, bands, band_labels, green_from, yellow_from}). Colour is never the only cue: the band zones
// carry their names, each band has its own point shape, and the tooltip says the band in words. Band colours and
// shapes come from static/js/charts.js (loaded before this file).
(function () {
  "use strict";
  if (window.healthCharts) return; // loaded again by a page that includes the panel twice
  var C = window.CSCharts;

  function zones(data) {
    return [
      { from: data.green_from, to: 100, band: "green", text: "Green (" + data.green_from + "+)" },
      { from: data.yellow_from, to: data.green_from, band: "yellow",
        text: "Yellow (" + data.yellow_from + "-" + (data.green_from - 1) + ")" },
      { from: 0, to: data.yellow_from, band: "red", text: "Red (below " + data.yellow_from + ")" },
    ];
  }

  // Shades each band's score range and writes its name at the right edge.
  var bandZones = {
    id: "healthBandZones",
    beforeDatasetsDraw: function (chart, args, options) {
      var ctx = chart.ctx, area = chart.chartArea, y = chart.scales.y;
      ctx.save();
      options.zones.forEach(function (zone) {
        var top = y.getPixelForValue(zone.to), bottom = y.getPixelForValue(zone.from);
        ctx.globalAlpha = 0.08;
        ctx.fillStyle = C.bandColour(zone.band);
        ctx.fillRect(area.left, top, area.right - area.left, bottom - top);
        ctx.globalAlpha = 1;
        ctx.fillStyle = C.bandColour(zone.band);
        ctx.font = "600 11px " + window.Chart.defaults.font.family;
        ctx.textAlign = "right";
        ctx.textBaseline = "top";
        ctx.fillText(zone.text, area.right - 4, top + 3);
      });
      ctx.restore();
    },
  };

  function summary(data) {
    var last = null, low = null, high = null;
    data.scores.forEach(function (score, i) {
      if (score === null || score === undefined) return;
      var point = { score: score, day: data.labels[i], band: data.band_labels[i] };
      last = point;
      if (!low || score < low.score) low = point;
      if (!high || score > high.score) high = point;
    });
    if (!last) return "No scores in this period.";
    return "Latest " + C.number(last.score) + " (" + last.band + ") on " + last.day + "; lowest " +
      C.number(low.score) + " on " + low.day + ", highest " + C.number(high.score) + " on " + high.day + ".";
  }

  function draw(canvas) {
    var data = C.readJson(canvas.dataset.healthChart);
    if (!data) return;
    var colourOf = function (i) { return C.bandColour(data.bands[i]); };
    var opts = C.options({ min: 0, max: 100, valueTitle: "Health score (0-100)", indexTitle: "Day", legend: false,
                           maxTicks: 8 });
    opts.scales.y.ticks.stepSize = 20;
    opts.plugins.healthBandZones = { zones: zones(data) };
    opts.plugins.tooltip.callbacks.label = function (ctx) {
      var value = ctx.parsed.y;
      if (value === null || value === undefined) return "No data";
      return "Score " + value.toFixed(0) + " (" + data.band_labels[ctx.dataIndex] + ")";
    };
    C.create(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{
          label: "Health score",
          data: data.scores,
          borderColor: C.theme().muted,
          borderWidth: 2,
          spanGaps: false,
          tension: 0.2,
          pointRadius: data.labels.length > 60 ? 2 : 4,
          pointHoverRadius: 6,
          pointStyle: function (ctx) { return C.bandPoint(data.bands[ctx.dataIndex]); },
          pointBackgroundColor: function (ctx) { return colourOf(ctx.dataIndex); },
          pointBorderColor: function (ctx) { return colourOf(ctx.dataIndex); },
          segment: { borderColor: function (ctx) { return colourOf(ctx.p1DataIndex); } },
        }],
      },
      options: opts,
      plugins: [bandZones],
    }, summary(data));
  }

  window.healthCharts = { draw: draw };
  // Also draws the canvas of a panel HTMX swaps in (after setting a pulse or sending a survey).
  C.register("canvas[data-health-chart]", draw);
})();
