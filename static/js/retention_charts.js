// Draws the retention page's charts (Chart.js, served from static/vendor/chart.umd.js): the GRR/NRR trend of the
// last quarters and the churned and downsold ARR per reason. The numbers come from <script id="retention-chart-data">
// and are also in the tables under each chart, so the page reads the same without JavaScript or colours.
(function () {
  "use strict";

  function readData() {
    var node = document.getElementById("retention-chart-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function money(value) {
    return Math.round(value).toLocaleString();
  }

  function drawTrend(canvas, trend) {
    return new window.Chart(canvas, {
      type: "line",
      data: {
        labels: trend.labels,
        datasets: [
          { label: "GRR %", data: trend.grr, borderColor: "#0969da", backgroundColor: "#0969da", spanGaps: true },
          { label: "NRR %", data: trend.nrr, borderColor: "#1a7f37", backgroundColor: "#1a7f37", borderDash: [6, 4],
            spanGaps: true },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { title: { display: true, text: "% of starting ARR" } } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  function drawReasons(canvas, reasons) {
    // Downsold bars are pale with a solid border, so the two series differ by more than hue.
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: reasons.labels,
        datasets: [
          { label: "Churned ARR", data: reasons.churned, backgroundColor: "#cf222e", borderWidth: 0 },
          { label: "Downsold ARR", data: reasons.downsold, backgroundColor: "rgba(191, 135, 0, 0.35)",
            borderColor: "#bf8700", borderWidth: 2 },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: "y",
        interaction: { mode: "index", intersect: false },
        scales: {
          x: {
            stacked: true, beginAtZero: true, title: { display: true, text: "ARR lost" },
            ticks: { callback: function (value) { return money(value); } },
          },
          y: { stacked: true },
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: { label: function (ctx) { return " " + ctx.dataset.label + ": " + money(ctx.parsed.x); } } },
        },
      },
    });
  }

  function draw() {
    var data = readData();
    if (!data || !window.Chart) {
      return;
    }
    var trend = document.getElementById("retention-trend-chart");
    if (trend && data.trend.labels.length > 0) {
      drawTrend(trend, data.trend);
    }
    var reasons = document.getElementById("reasons-chart");
    if (reasons && data.reasons.labels.length > 0) {
      drawReasons(reasons, data.reasons);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
