// The retention page's charts, drawn by static/js/charts.js from <script id="retention-chart-data">: the GRR/NRR
// trend of the last quarters (the same chart as the forecast page's) and the churned and downsold ARR per reason
// (cross-hatched and dotted bars, amounts written on them when they fit). The tables under each chart carry the same
// numbers.
(function () {
  "use strict";
  var C = window.CSCharts;

  function drawReasons(canvas) {
    var data = C.readJson("retention-chart-data");
    if (!data || !data.reasons || !data.reasons.labels.length) return;
    var reasons = data.reasons, currency = canvas.dataset.currency;
    var datasets = [C.barSeries(4, "Churned ARR", reasons.churned, { borderWidth: 0 }),
                    C.barSeries(2, "Downsold ARR", reasons.downsold, { borderWidth: 0 })];
    var opts = C.options({ format: "money", currency: currency, stacked: true, horizontal: true,
                           valueTitle: "ARR lost", labels: function (value) { return C.money(value, null, true); } });
    C.create(canvas, { type: "bar", data: { labels: reasons.labels, datasets: datasets }, options: opts },
             C.summariseStacks(reasons.labels, datasets, C.formatter("money", currency)));
  }

  C.register("#retention-trend-chart", function (canvas) {
    var data = C.readJson("retention-chart-data");
    if (data) C.retentionTrend(canvas, data.trend);
  });
  C.register("#reasons-chart", drawReasons);
})();
