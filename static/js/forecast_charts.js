// Draws the forecast page's charts (Chart.js, served from static/vendor/chart.umd.js): the forecast categories
// stacked per month of the quarter, and the GRR/NRR trend. The numbers come from <script id="forecast-chart-data">
// and are also in the tables under each chart, so the page reads the same without JavaScript or colours.
(function () {
  "use strict";

  function readData() {
    var node = document.getElementById("forecast-chart-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function money(value) {
    return Math.round(value).toLocaleString();
  }

  function drawCategories(canvas, months) {
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: months.labels,
        datasets: months.series.map(function (s) {
          return { label: s.label, data: s.values, backgroundColor: s.colour, borderWidth: 0 };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true },
          y: {
            stacked: true, beginAtZero: true, title: { display: true, text: "ARR" },
            ticks: { callback: function (value) { return money(value); } },
          },
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: { label: function (ctx) { return " " + ctx.dataset.label + ": " + money(ctx.parsed.y); } } },
        },
      },
    });
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

  function draw() {
    var data = readData();
    if (!data || !window.Chart) {
      return;
    }
    var categories = document.getElementById("categories-chart");
    if (categories && data.months) {
      drawCategories(categories, data.months);
    }
    var trend = document.getElementById("retention-trend-chart");
    if (trend && data.trend.labels.length > 0) {
      drawTrend(trend, data.trend);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
