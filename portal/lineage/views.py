"""Lineage pages: the graph of a model or version, and a snapshot's impact.

Reads go through ``portal.lineage`` (which reads through the apps' selectors),
so a person sees here exactly the records their other pages show them.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from kernel.pages import service_errors_as_http
from models_registry import selectors
from portal.lineage.graph import (
    ARTIFACT,
    DECISION,
    DEPLOYMENT,
    EDGE_LABELS,
    EVALUATION,
    KIND_LABELS,
    REQUEST,
    RUN,
    SNAPSHOT,
    VERSION,
    LineageGraph,
    LineageNode,
)
from portal.lineage.impact import impact_of_snapshot
from portal.lineage.selectors import lineage_graph
from portal.lineage.svg import columns_of, draw


def node_urls(graph: LineageGraph) -> dict[str, str | None]:
    """The page each node links to (None for hidden snapshots)."""
    name = graph.model.name
    number_of = {node.pk: node.obj.version for node in graph.of_kind(VERSION)}

    def version_url(version_id: int) -> str | None:
        if version_id not in number_of:
            return None
        return reverse("registry:version-detail", args=[name, number_of[version_id]])

    def url_for(node: LineageNode) -> str | None:
        if node.is_hidden:
            return None
        if node.kind == SNAPSHOT:
            return reverse("registry:dataset-detail", args=[node.pk])
        if node.kind == RUN:
            return reverse("registry:run-detail", args=[node.pk])
        if node.kind == VERSION:
            return version_url(node.pk)
        if node.kind == ARTIFACT:
            owners = [
                other.pk
                for _, other in graph.downstream(node.key)
                if other.kind == VERSION
            ]
            return version_url(owners[0]) if owners else None
        if node.kind == EVALUATION:
            url = version_url(node.obj.version_id)
            return f"{url}#evaluations-heading" if url else None
        if node.kind == REQUEST:
            return reverse("approvals:request-detail", args=[node.pk])
        if node.kind == DECISION:
            return reverse("approvals:request-detail", args=[node.obj.request_id])
        if node.kind == DEPLOYMENT:
            return reverse("approvals:deployment-detail", args=[node.pk])
        return None

    return {node.key: url_for(node) for node in graph.nodes}


def _table(
    graph: LineageGraph, urls: dict[str, str | None], drawn: dict[str, str | None]
) -> list[dict]:
    """Rows of the text listing, column by column as drawn."""
    rows = []
    for column in columns_of(graph):
        for node in column.nodes:
            rows.append(
                {
                    "node": node,
                    "column": column.title,
                    "kind": KIND_LABELS[node.kind],
                    "url": urls[node.key],
                    "lineage_url": drawn[node.key]
                    if drawn[node.key] != urls[node.key]
                    else None,
                    "upstream": [
                        {
                            "label": EDGE_LABELS[edge.kind],
                            "role": edge.label,
                            "node": other,
                            "url": urls[other.key],
                        }
                        for edge, other in graph.upstream(node.key)
                    ],
                    "downstream": [
                        {
                            "label": EDGE_LABELS[edge.kind],
                            "role": edge.label,
                            "node": other,
                            "url": urls[other.key],
                        }
                        for edge, other in graph.downstream(node.key)
                    ],
                }
            )
    return rows


def graph_urls(graph: LineageGraph, urls: dict[str, str | None]) -> dict:
    """The links of the drawn boxes: as the table's, except that a version box
    opens that version's own lineage (its page is one click further, in the
    breadcrumbs); the page's own version opens its page."""
    name = graph.model.name
    subject = graph.version.pk if graph.version is not None else None
    drawn = dict(urls)
    for node in graph.of_kind(VERSION):
        if node.pk != subject and not node.is_hidden:
            drawn[node.key] = reverse(
                "registry:version-lineage", args=[name, node.obj.version]
            )
    return drawn


def _render_graph(request, graph: LineageGraph, *, title: str):
    urls = node_urls(graph)
    drawn = graph_urls(graph, urls)
    counts = [
        {"label": column.title, "count": len(column.nodes)}
        for column in columns_of(graph)
    ]
    context = {
        "model": graph.model,
        "version": graph.version,
        "graph": graph,
        "svg": draw(graph, lambda node: drawn[node.key], title=title),
        "rows": _table(graph, urls, drawn),
        "version_lineages": [
            {
                "number": node.obj.version,
                "url": reverse(
                    "registry:version-lineage",
                    args=[graph.model.name, node.obj.version],
                ),
                "is_current": graph.version is not None and node.pk == graph.version.pk,
            }
            for node in graph.of_kind(VERSION)
            if not node.is_hidden
        ],
        "counts": counts,
        "title": title,
    }
    return render(request, "lineage/graph.html", context)


@login_required
@require_GET
@service_errors_as_http
def model_lineage(request, name: str):
    model = selectors.model_get(actor=request.user, name=name)
    graph = lineage_graph(actor=request.user, model=model)
    return _render_graph(request, graph, title=f"Lineage of {model.name}")


@login_required
@require_GET
@service_errors_as_http
def version_lineage(request, name: str, number: int):
    version = selectors.version_get_by_number(
        actor=request.user, model_name=name, number=number
    )
    graph = lineage_graph(actor=request.user, version=version)
    return _render_graph(
        request, graph, title=f"Lineage of {version.model.name} v{version.version}"
    )


@login_required
@require_GET
@service_errors_as_http
def dataset_impact(request, id: int):
    snapshot = selectors.dataset_get(actor=request.user, id=id)
    impact = impact_of_snapshot(actor=request.user, snapshot=snapshot)
    names = {each.snapshot.pk: each.snapshot for each in impact.snapshots}
    runs = {each.run.pk: each.run for each in impact.runs}
    context = {
        "snapshot": snapshot,
        "impact": impact,
        "descendants": [
            {
                "entry": each,
                "parents": [names.get(pk) for pk in each.parent_ids],
                "hidden_parents": sum(pk not in names for pk in each.parent_ids),
            }
            for each in impact.descendants
        ],
        "runs": [
            {
                "run": each.run,
                "inputs": [
                    {"snapshot": names.get(pk), "role": role}
                    for pk, role in each.inputs
                ],
            }
            for each in impact.runs
        ],
        "versions": [
            {
                "entry": each,
                "trained_by": [runs[pk] for pk in each.trained_by if pk in runs],
                "evaluated_on": [
                    {"snapshot": names.get(pk), "split": split}
                    for pk, split in each.evaluated_on
                ],
            }
            for each in impact.versions
        ],
        "hidden_total": sum(impact.hidden.values()),
    }
    return render(request, "lineage/impact.html", context)
