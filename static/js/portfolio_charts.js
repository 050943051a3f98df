// Draws the portfolio dashboard's charts (Chart.js, served from static/vendor/chart.umd.js).
// The numbers come from the page's <script id="portfolio-chart-data"> and are also in the tables next to
// each chart, so the page reads the same without JavaScript or without telling colours apart.
(function () {
  "use strict";

  function readData() {
    var node = document.getElementById("portfolio-chart-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function drawMix(canvas, mix) {
    return new window.Chart(canvas, {
      type: "doughnut",
      data: {
        labels: mix.labels.map(function (label, i) { return label + " " + mix.counts[i] + " (" + mix.percents[i] + "%)"; }),
        datasets: [{ data: mix.counts, backgroundColor: mix.colours, borderColor: "#fff", borderWidth: 2 }],
      },
      options: {
        animation: false,
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (ctx) { return " " + ctx.label; },
            },
          },
        },
      },
    });
  }

  function drawTrend(canvas, trend) {
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: trend.days,
        datasets: trend.series.map(function (s) {
          return { label: s.label, data: s.counts, backgroundColor: s.colour, borderWidth: 0 };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, ticks: { maxTicksLimit: 12 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Accounts" } },
        },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  function draw() {
    var data = readData();
    if (!data || !window.Chart) {
      return;
    }
    var mixCanvas = document.getElementById("band-mix-chart");
    if (mixCanvas && data.mix.total > 0) {
      drawMix(mixCanvas, data.mix);
    }
    var trendCanvas = document.getElementById("band-trend-chart");
    if (trendCanvas && data.trend.days.length > 0) {
      drawTrend(trendCanvas, data.trend);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
