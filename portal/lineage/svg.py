"""Draw a lineage graph as a layered SVG, on the server: no script needed.

Columns run left to right in the order records come about: snapshots (those
derived from further upstream to the left of the snapshots they fed), runs,
artifacts, versions, evaluations, requests, decisions, deployments. The version
column is the spine: its nodes are stacked in order, and every other column is
placed outwards from it, each node as close as the layout allows to the mean
height of its already placed neighbours (a one-pass barycentre layout), which
keeps edges short and mostly level. Every visible node is a link to its page and
carries a tooltip with its full label.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from portal.lineage.graph import (
    KIND_LABELS,
    KINDS,
    SNAPSHOT,
    VERSION,
    LineageGraph,
    LineageNode,
)

NODE_WIDTH = 176
NODE_HEIGHT = 38
ROW_HEIGHT = 48
COLUMN_GAP = 60
MARGIN = 12
HEADER_HEIGHT = 34
LABEL_CHARACTERS = 25
CAPTION_CHARACTERS = 30


@dataclass(frozen=True)
class Column:
    title: str
    nodes: list[LineageNode]


@dataclass(frozen=True)
class Layout:
    columns: list[Column]
    # node key → (x, y) of the node's top-left corner
    positions: dict[str, tuple[int, int]]
    # node key → column index
    column_of: dict[str, int]
    width: int
    height: int


def _snapshot_title(depth: int) -> str:
    if depth == 0:
        return "Dataset snapshots"
    steps = "1 step" if depth == 1 else f"{depth} steps"
    return f"Snapshots, {steps} upstream"


def columns_of(graph: LineageGraph) -> list[Column]:
    columns = []
    snapshots = graph.of_kind(SNAPSHOT)
    for depth in range(graph.max_depth, -1, -1):
        nodes = [node for node in snapshots if node.depth == depth]
        if nodes:
            columns.append(Column(_snapshot_title(depth), nodes))
    for kind in KINDS[1:]:
        nodes = graph.of_kind(kind)
        if nodes:
            columns.append(Column(KIND_LABELS[kind] + "s", nodes))
    return columns


def layout(graph: LineageGraph) -> Layout:
    columns = columns_of(graph)
    column_of = {
        node.key: index for index, column in enumerate(columns) for node in column.nodes
    }
    neighbours: dict[str, list[str]] = {key: [] for key in column_of}
    for edge in graph.edges:
        neighbours[edge.source].append(edge.target)
        neighbours[edge.target].append(edge.source)

    y_of: dict[str, float] = {}
    if columns:
        spine = next(
            (
                index
                for index, column in enumerate(columns)
                if column.nodes[0].kind == VERSION
            ),
            max(range(len(columns)), key=lambda index: len(columns[index].nodes)),
        )
        for row, node in enumerate(columns[spine].nodes):
            y_of[node.key] = HEADER_HEIGHT + row * ROW_HEIGHT
        order = list(range(spine + 1, len(columns))) + list(range(spine - 1, -1, -1))
        for index in order:
            _place_column(columns[index].nodes, neighbours, y_of)

    positions = {
        key: (MARGIN + column_of[key] * (NODE_WIDTH + COLUMN_GAP), round(y))
        for key, y in y_of.items()
    }
    # One gap more on the right: arcs between the deployments of the last
    # column (rollbacks) bulge there.
    width = MARGIN * 2 + max(len(columns), 1) * (NODE_WIDTH + COLUMN_GAP)
    height = (
        max((y for _, y in positions.values()), default=HEADER_HEIGHT)
        + NODE_HEIGHT
        + MARGIN
    )
    return Layout(columns, positions, column_of, width, height)


def _place_column(
    nodes: list[LineageNode], neighbours: dict[str, list[str]], y_of: dict[str, float]
) -> None:
    """Place one column: each node at the mean height of its placed neighbours,
    in that order, pushed down just enough not to overlap the one above."""
    wanted = []
    for position, node in enumerate(nodes):
        placed = [y_of[key] for key in neighbours[node.key] if key in y_of]
        mean = sum(placed) / len(placed) if placed else float("inf")
        wanted.append((mean, position, node))
    wanted.sort(key=lambda item: (item[0], item[1]))
    next_free = HEADER_HEIGHT
    for mean, _, node in wanted:
        y = next_free if mean == float("inf") else max(mean, next_free)
        y_of[node.key] = y
        next_free = y + ROW_HEIGHT


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def draw(
    graph: LineageGraph,
    url_for: Callable[[LineageNode], str | None],
    *,
    title: str,
) -> SafeString:
    """The graph as an inline ``<svg>`` element (escaped, safe to embed)."""
    plan = layout(graph)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage-graph" '
        f'width="{plan.width}" height="{plan.height}" '
        f'viewBox="0 0 {plan.width} {plan.height}" '
        f'aria-labelledby="lineage-svg-title lineage-svg-desc">',
        f'<title id="lineage-svg-title">{escape(title)}</title>',
        f'<desc id="lineage-svg-desc">{len(graph.nodes)} records and '
        f"{len(graph.edges)} links, drawn left to right from dataset snapshots to "
        "deployments. The table below lists the same records as text.</desc>",
        "<defs>"
        '<marker id="lineage-arrow" viewBox="0 0 8 8" refX="7" refY="4" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L8,4 L0,8 z" class="lineage-arrow"/></marker>'
        "</defs>",
    ]
    for index, column in enumerate(plan.columns):
        x = MARGIN + index * (NODE_WIDTH + COLUMN_GAP)
        parts.append(
            f'<text class="lineage-column-title" x="{x}" y="{HEADER_HEIGHT - 14}">'
            f"{escape(column.title)} ({len(column.nodes)})</text>"
        )
    half = NODE_HEIGHT // 2
    for edge in graph.edges:
        sx, sy = plan.positions[edge.source]
        tx, ty = plan.positions[edge.target]
        if plan.column_of[edge.source] == plan.column_of[edge.target]:
            # Within a column (rollbacks between deployments): arc on the right.
            start, end = (sx + NODE_WIDTH, sy + half), (tx + NODE_WIDTH, ty + half)
            bulge = min(COLUMN_GAP - 12, 24 + abs(ty - sy) // 8)
            path = (
                f"M{start[0]},{start[1]} C{start[0] + bulge},{start[1]} "
                f"{end[0] + bulge},{end[1]} {end[0] + 2},{end[1]}"
            )
        else:
            start, end = (sx + NODE_WIDTH, sy + half), (tx, ty + half)
            middle = (start[0] + end[0]) / 2
            path = (
                f"M{start[0]},{start[1]} C{middle:.0f},{start[1]} "
                f"{middle:.0f},{end[1]} {end[0] - 2},{end[1]}"
            )
        parts.append(
            f'<path class="lineage-edge edge-{edge.kind}" d="{path}" '
            'marker-end="url(#lineage-arrow)"/>'
        )
    for node in graph.nodes:
        x, y = plan.positions[node.key]
        tooltip = f"{KIND_LABELS[node.kind]}: {node.label}" + (
            f" — {node.caption}" if node.caption else ""
        )
        body = (
            f"<title>{escape(tooltip)}</title>"
            f'<rect x="{x}" y="{y}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" '
            'rx="5"/>'
            f'<text class="lineage-label" x="{x + 8}" y="{y + 16}">'
            f"{escape(_shorten(node.label, LABEL_CHARACTERS))}</text>"
            f'<text class="lineage-caption" x="{x + 8}" y="{y + 31}">'
            f"{escape(_shorten(node.caption, CAPTION_CHARACTERS))}</text>"
        )
        classes = f"lineage-node node-{node.kind}" + (
            " node-hidden" if node.is_hidden else ""
        )
        url = None if node.is_hidden else url_for(node)
        if url:
            parts.append(
                f'<a href="{escape(url)}" class="{classes}" id="node-{node.key}">'
                f"{body}</a>"
            )
        else:
            parts.append(f'<g class="{classes}" id="node-{node.key}">{body}</g>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every text above is escaped)
