// The portfolio dashboard's charts: the band mix (doughnut) and the band mix per day (stacked bars), drawn by
// static/js/charts.js from the page's <script id="portfolio-chart-data">. Each band has its colour and its own
// pattern, the slices carry their share, and the tables next to the charts hold every number.
(function () {
  "use strict";
  var C = window.CSCharts;

  // The bands of the series, in order: from the data when it names them, else from the canvas's data-bands
  // (the template writes the same order as the table), else green, yellow, red, no data.
  function bands(canvas, series) {
    var named = (canvas.dataset.bands || "").split(/\s+/).filter(Boolean);
    return series.map(function (s, i) { return s.band || named[i] || ["green", "yellow", "red", "none"][i]; });
  }

  function drawMix(canvas) {
    var data = C.readJson("portfolio-chart-data");
    if (!data || !data.mix || !data.mix.total) return;
    var mix = data.mix;
    var keys = bands(canvas, mix.labels.map(function () { return {}; }));
    var labels = mix.labels.map(function (label, i) {
      return label + " " + mix.counts[i] + " (" + mix.percents[i] + "%)";
    });
    // The slices carry their share; the legend names each band with its count and share.
    var opts = C.options({ format: "count", labels: function (value, i) { return mix.percents[i] + "%"; } });
    delete opts.scales; // a doughnut has no axes
    delete opts.indexAxis;
    opts.interaction = { mode: "nearest", intersect: true };
    opts.plugins.tooltip.callbacks.label = function (ctx) { return " " + ctx.label; };
    C.create(canvas, {
      type: "doughnut",
      data: {
        labels: labels,
        datasets: [{
          label: "Accounts", data: mix.counts, backgroundColor: keys.map(C.bandFill),
          borderColor: C.theme().card, borderWidth: 2,
        }],
      },
      options: opts,
    }, labels.join(", ") + ", " + mix.total + " accounts in all.");
  }

  function drawTrend(canvas) {
    var data = C.readJson("portfolio-chart-data");
    if (!data || !data.trend || !data.trend.days.length) return;
    var trend = data.trend;
    var keys = bands(canvas, trend.series);
    var datasets = trend.series.map(function (s, i) {
      return C.barSeries(keys[i], s.label, s.counts, { borderWidth: 0 });
    });
    var opts = C.options({ format: "count", stacked: true, valueTitle: "Accounts",
                           labels: function (value) { return String(value); } });
    C.create(canvas, { type: "bar", data: { labels: trend.days, datasets: datasets }, options: opts },
             "Accounts per band on the latest day, " + C.summariseStacks(trend.days, datasets, C.number, 1) +
             " " + trend.days.length + " days shown.");
  }

  C.register("#band-mix-chart", drawMix);
  C.register("#band-trend-chart", drawTrend);
})();
