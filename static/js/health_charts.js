// Health trend charts: <canvas data-health-chart="ID"> is drawn from <script type="application/json" id="ID">
// ({labels, scores, bands, band_labels, green_from, yellow_from, colours}). Colour is never the only cue: the
// band zones carry their names, each band has its own point shape, and the tooltip says the band in words.
(function () {
  "use strict";
  if (window.healthCharts) return; // loaded again by a page that includes the panel twice
  var SHAPES = { green: "circle", yellow: "triangle", red: "rectRot", none: "crossRot" };

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
        ctx.fillStyle = options.colours[zone.band];
        ctx.fillRect(area.left, top, area.right - area.left, bottom - top);
        ctx.globalAlpha = 1;
        ctx.fillStyle = options.colours[zone.band];
        ctx.font = "600 11px system-ui, sans-serif";
        ctx.textAlign = "right";
        ctx.textBaseline = "top";
        ctx.fillText(zone.text, area.right - 4, top + 3);
      });
      ctx.restore();
    },
  };

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof window.Chart === "undefined") return;
    var island = document.getElementById(canvas.dataset.healthChart);
    if (!island) return;
    var data = JSON.parse(island.textContent);
    var colours = data.colours;
    var pointColour = function (ctx) { return colours[data.bands[ctx.dataIndex]] || colours.none; };
    canvas.dataset.drawn = "1";
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{
          label: "Health score",
          data: data.scores,
          borderColor: "#57606a",
          borderWidth: 2,
          spanGaps: false,
          tension: 0.2,
          pointRadius: data.labels.length > 60 ? 2 : 4,
          pointHoverRadius: 6,
          pointStyle: function (ctx) { return SHAPES[data.bands[ctx.dataIndex]] || "circle"; },
          pointBackgroundColor: pointColour,
          pointBorderColor: pointColour,
          segment: { borderColor: function (ctx) { return colours[data.bands[ctx.p1DataIndex]] || "#57606a"; } },
        }],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { min: 0, max: 100, title: { display: true, text: "Health score (0-100)" }, ticks: { stepSize: 20 } },
          x: { title: { display: true, text: "Day" }, ticks: { maxTicksLimit: 8, autoSkip: true } },
        },
        plugins: {
          legend: { display: false },
          healthBandZones: { zones: zones(data), colours: colours },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var value = ctx.parsed.y;
                if (value === null || value === undefined) return "No data";
                return "Score " + value.toFixed(0) + " (" + data.band_labels[ctx.dataIndex] + ")";
              },
            },
          },
        },
      },
      plugins: [bandZones],
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-health-chart]").forEach(draw);
  }

  window.healthCharts = { drawAll: drawAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  // A panel swapped in by HTMX (after setting a pulse or sending a survey) brings a new canvas.
  document.addEventListener("htmx:load", function (event) { drawAll(event.detail.elt); });
})();
