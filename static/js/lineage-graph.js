// The lineage graph fits the width of its box, and zooms and pans: buttons
// (zoom in, zoom out, fit to width, actual size), + − 0 and the arrow keys on
// the focused graph, ctrl + wheel or a pinch, and dragging. It works on the SVG's
// viewBox only, so the boxes stay links and the text stays sharp. Without
// this script the graph is drawn at full size in a scrolling box.
(function () {
  "use strict";

  const MIN_HEIGHT = 320;
  const MAX_ZOOM = 2;
  const STEP = 1.4;
  const DRAG_THRESHOLD = 4;

  function setUp(viewport) {
    const svg = viewport.querySelector("svg.lineage-graph");
    const card = viewport.closest("section") || document;
    const toolbar = card.querySelector("[data-lineage-toolbar]");
    const level = card.querySelector("[data-zoom-level]");
    const hint = card.querySelector("[data-lineage-hint]");
    if (!svg || !toolbar) {
      return;
    }
    const full = {
      width: Number(svg.getAttribute("width")),
      height: Number(svg.getAttribute("height")),
    };
    if (!full.width || !full.height) {
      return;
    }
    let view = { x: 0, y: 0, width: full.width, height: full.height };

    viewport.classList.add("is-interactive");
    svg.setAttribute("width", "100%");
    svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
    toolbar.hidden = false;
    if (hint) {
      hint.hidden = false;
    }

    function boxWidth() {
      return viewport.clientWidth || full.width;
    }

    // Tall enough to show every row at actual size (so that zooming in moves
    // sideways only), at most three quarters of the window.
    function fitHeight() {
      const fitted = (boxWidth() * full.height) / full.width;
      const wanted = Math.max(fitted, Math.min(full.height, MIN_HEIGHT));
      return Math.round(Math.min(wanted, Math.max(window.innerHeight * 0.75, 200)));
    }

    // Pixels on screen per unit of the drawing, for the current view.
    function scale() {
      return Math.min(boxWidth() / view.width, svg.clientHeight / view.height);
    }

    function clamp() {
      view.width = Math.min(view.width, full.width);
      view.height = Math.min(view.height, full.height);
      view.x = Math.min(Math.max(view.x, 0), full.width - view.width);
      view.y = Math.min(Math.max(view.y, 0), full.height - view.height);
    }

    function apply() {
      clamp();
      svg.setAttribute(
        "viewBox",
        [view.x, view.y, view.width, view.height].map((n) => n.toFixed(1)).join(" ")
      );
      const percent = Math.round(scale() * 100);
      viewport.dataset.zoom = String(percent);
      if (level) {
        level.textContent = percent >= 99 && percent <= 101 ? "Actual size" : `Zoom ${percent}%`;
      }
    }

    // Show the drawing at `pixelsPerUnit`, keeping the point (cx, cy) of the
    // drawing where it is on screen.
    function zoomTo(pixelsPerUnit, cx, cy) {
      const fitScale = boxWidth() / full.width;
      const target = Math.min(Math.max(pixelsPerUnit, fitScale), MAX_ZOOM);
      const oldWidth = view.width;
      const oldHeight = view.height;
      view.width = boxWidth() / target;
      view.height = svg.clientHeight / target;
      const x = cx === undefined ? view.x + oldWidth / 2 : cx;
      const y = cy === undefined ? view.y + oldHeight / 2 : cy;
      view.x = x - ((x - view.x) * view.width) / oldWidth;
      view.y = y - ((y - view.y) * view.height) / oldHeight;
      apply();
    }

    function fit() {
      svg.setAttribute("height", String(fitHeight()));
      view = { x: 0, y: 0, width: full.width, height: full.height };
      apply();
    }

    function actualSize() {
      zoomTo(1, view.x, view.y);
    }

    toolbar.addEventListener("click", (event) => {
      const button = event.target.closest("[data-zoom]");
      if (!button) {
        return;
      }
      const action = button.dataset.zoom;
      if (action === "in") {
        zoomTo(scale() * STEP);
      } else if (action === "out") {
        zoomTo(scale() / STEP);
      } else if (action === "fit") {
        fit();
      } else if (action === "actual") {
        actualSize();
      }
    });

    viewport.addEventListener("keydown", (event) => {
      const pan = 60 / scale();
      const keys = {
        "+": () => zoomTo(scale() * STEP),
        "=": () => zoomTo(scale() * STEP),
        "-": () => zoomTo(scale() / STEP),
        0: fit,
        ArrowLeft: () => { view.x -= pan; apply(); },
        ArrowRight: () => { view.x += pan; apply(); },
        ArrowUp: () => { view.y -= pan; apply(); },
        ArrowDown: () => { view.y += pan; apply(); },
      };
      if (event.target !== viewport || !(event.key in keys)) {
        return;
      }
      event.preventDefault();
      keys[event.key]();
    });

    // Ctrl + wheel (and a trackpad's pinch) zooms around the pointer; a plain
    // wheel scrolls the page as usual.
    viewport.addEventListener(
      "wheel",
      (event) => {
        if (!event.ctrlKey && !event.metaKey) {
          return;
        }
        event.preventDefault();
        const box = svg.getBoundingClientRect();
        const cx = view.x + (event.clientX - box.left) / scale();
        const cy = view.y + (event.clientY - box.top) / scale();
        zoomTo(scale() * (event.deltaY < 0 ? 1.15 : 1 / 1.15), cx, cy);
      },
      { passive: false }
    );

    // Dragging pans; a drag that moved does not also follow the box's link.
    let drag = null;
    let dragged = false;
    viewport.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) {
        return;
      }
      drag = { x: event.clientX, y: event.clientY, viewX: view.x, viewY: view.y };
      dragged = false;
    });
    window.addEventListener("pointermove", (event) => {
      if (!drag) {
        return;
      }
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      if (!dragged && Math.hypot(dx, dy) < DRAG_THRESHOLD) {
        return;
      }
      if (!dragged) {
        dragged = true;
        viewport.classList.add("is-dragging");
      }
      view.x = drag.viewX - dx / scale();
      view.y = drag.viewY - dy / scale();
      apply();
    });
    window.addEventListener("pointerup", () => {
      drag = null;
      viewport.classList.remove("is-dragging");
    });
    viewport.addEventListener(
      "click",
      (event) => {
        if (dragged) {
          event.preventDefault();
          event.stopPropagation();
          dragged = false;
        }
      },
      true
    );
    svg.addEventListener("dragstart", (event) => event.preventDefault());

    let lastWidth = boxWidth();
    window.addEventListener("resize", () => {
      if (boxWidth() !== lastWidth) {
        lastWidth = boxWidth();
        fit();
      }
    });

    fit();
  }

  document.querySelectorAll("[data-lineage-viewport]").forEach(setUp);
})();
