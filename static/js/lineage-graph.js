// The lineage graph fits the width of its box, and zooms and pans: buttons
// (zoom in, zoom out, fit to width, actual size), + − 0 and the arrow keys on
// the focused graph, ctrl + wheel or a pinch, and dragging. It works on the SVG's
// viewBox only, so the boxes stay links and the text stays sharp. Without
// this script the graph is drawn at full size in a scrolling box.
(function () {
  "use strict";

  const MIN_BOX = 140;
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
    // The view: pixels on screen per unit of the drawing, and the drawing's
    // point at the box's top-left corner. The box is as tall as the drawing at
    // that zoom (at least MIN_BOX, at most three quarters of the window).
    const view = { scale: 1, x: 0, y: 0 };

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

    function fitScale() {
      return Math.min(boxWidth() / full.width, MAX_ZOOM);
    }

    function scale() {
      return view.scale;
    }

    function apply() {
      view.scale = Math.min(Math.max(view.scale, fitScale()), MAX_ZOOM);
      const most = Math.max(window.innerHeight * 0.75, MIN_BOX);
      const height = Math.round(
        Math.min(Math.max(full.height * view.scale, MIN_BOX), most)
      );
      const width = boxWidth() / view.scale;
      const tall = height / view.scale;
      view.x = Math.min(Math.max(view.x, 0), Math.max(full.width - width, 0));
      view.y = Math.min(Math.max(view.y, 0), Math.max(full.height - tall, 0));
      svg.setAttribute("height", String(height));
      svg.setAttribute(
        "viewBox",
        [view.x, view.y, width, tall].map((n) => n.toFixed(1)).join(" ")
      );
      const percent = Math.round(view.scale * 100);
      viewport.dataset.zoom = String(percent);
      if (level) {
        level.textContent = percent === 100 ? "Actual size" : `Zoom ${percent}%`;
      }
    }

    // Zoom to `pixelsPerUnit`, keeping the drawing's point (cx, cy) where it
    // is on screen (the centre of the box by default).
    function zoomTo(pixelsPerUnit, cx, cy) {
      const old = view.scale;
      const x = cx === undefined ? view.x + boxWidth() / 2 / old : cx;
      const y = cy === undefined ? view.y + svg.clientHeight / 2 / old : cy;
      view.scale = Math.min(Math.max(pixelsPerUnit, fitScale()), MAX_ZOOM);
      view.x = x - ((x - view.x) * old) / view.scale;
      view.y = y - ((y - view.y) * old) / view.scale;
      apply();
    }

    function fit() {
      view.scale = fitScale();
      view.x = 0;
      view.y = 0;
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
