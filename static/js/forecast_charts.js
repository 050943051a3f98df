// The forecast page's charts, drawn by static/js/charts.js from <script id="forecast-chart-data">: the forecast
// categories stacked per month of the quarter (each category with its own pattern and its amount written on the
// bar when it fits) and the GRR/NRR trend (shared with the retention page). The tables under each chart carry
// the same numbers.
(function () {
  "use strict";
  var C = window.CSCharts;

  function drawCategories(canvas) {
    var data = C.readJson("forecast-chart-data");
    if (!data || !data.months) return;
    var months = data.months, currency = canvas.dataset.currency;
    var datasets = months.series.map(function (s, i) { return C.barSeries(i, s.label, s.values, { borderWidth: 0 }); });
    var opts = C.options({ format: "money", currency: currency, stacked: true, valueTitle: "ARR",
                           labels: function (value) { return C.money(value, null, true); } });
    C.create(canvas, { type: "bar", data: { labels: months.labels, datasets: datasets }, options: opts },
             C.summariseStacks(months.labels, datasets, C.formatter("money", currency)));
  }

  C.register("#categories-chart", drawCategories);
  C.register("#retention-trend-chart", function (canvas) {
    var data = C.readJson("forecast-chart-data");
    if (data) C.retentionTrend(canvas, data.trend);
  });
})();
