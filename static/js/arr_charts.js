// The Account 360 "Renewals and ARR" section: month-end ARR over the last two years as a line, drawn by
// static/js/charts.js from <script id="arr-history-data"> ([{day, arr}], oldest first). The table in the
// <details> under it holds the same numbers; the SVG sparkline the server draws stays for pages without scripts.
(function () {
  "use strict";
  var C = window.CSCharts;

  function draw(canvas) {
    var points = C.readJson(canvas.dataset.arrChart);
    if (!points || !points.length) return;
    var currency = canvas.dataset.currency;
    var labels = points.map(function (p) { return String(p.day).slice(0, 7); });
    var values = points.map(function (p) { return Number(p.arr); });
    // A light area under the line; the points keep the series' solid colour.
    var line = C.lineSeries(0, "ARR", values, { fill: "origin", backgroundColor: C.seriesColour(0) + "1f",
                                                 pointBackgroundColor: C.seriesColour(0), pointRadius: 3, tension: 0 });
    // The box stays hidden without scripts (the sparkline shows then); Chart.js sizes to a visible box.
    var section = canvas.closest("section") || document;
    var spark = section.querySelector("svg.spark");
    canvas.parentNode.hidden = false;
    var opts = C.options({ format: "money", currency: currency, valueTitle: "ARR", legend: false, maxTicks: 8 });
    var chart = C.create(canvas, { type: "line", data: { labels: labels, datasets: [line] }, options: opts },
                         C.summariseLines(labels, [line], C.formatter("money", currency)));
    if (!chart) canvas.parentNode.hidden = true;
    else if (spark) spark.style.display = "none";
  }

  C.register("canvas[data-arr-chart]", draw);
})();
