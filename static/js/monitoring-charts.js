/* Draw the dashboard's Plotly figures. Each chart container names the id of a
   <script type="application/json"> block holding the figure that the server
   built (monitoring/charts/); plotly.js is served from static/vendor. */
(function () {
  "use strict";

  function draw() {
    if (typeof window.Plotly === "undefined") {
      return;
    }
    var containers = document.querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(containers, function (container) {
      var source = document.getElementById(container.getAttribute("data-chart"));
      if (!source) {
        return;
      }
      var figure = JSON.parse(source.textContent);
      // A responsive plot fills its container once the window is resized: the
      // container must hold the figure's height itself, or the chart is cut.
      if (figure.layout && figure.layout.height) {
        container.style.height = figure.layout.height + "px";
      }
      // On a phone a date axis gets fewer ticks, so its labels do not run
      // into each other.
      if (figure.layout && container.clientWidth < 480) {
        Object.keys(figure.layout).forEach(function (key) {
          var axis = figure.layout[key];
          if (/^xaxis\d*$/.test(key) && axis && axis.type === "date") {
            axis.nticks = Math.min(axis.nticks || 4, 4);
          }
        });
      }
      window.Plotly.newPlot(container, figure.data, figure.layout, {
        responsive: true,
        displaylogo: false,
        modeBarButtonsToRemove: ["select2d", "lasso2d"]
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
