"""Lineage: where a model's versions come from, and what a dataset snapshot feeds.

``lineage_graph`` walks a model (or one version) from its dataset snapshots, and
the snapshots those were derived from at any depth, through training runs,
artifacts, versions and evaluations to approval requests, their decisions and
the deployments and rollbacks they led to. ``impact_of_snapshot`` walks the other
way: every snapshot derived from one, and every run, version and live
deployment downstream of them.

Both run a fixed number of queries whatever the depth: derivations are followed
by one recursive query (``derivations``). Everything is read through the
registry's and the approvals' selectors or limited by ``access``, so the graph
shows nothing that the actor's other pages hide: a snapshot the actor may not
see appears only as a hidden node, so the shape of a derivation chain stays
true without its details.

Lineage joins the records of the registry and approvals, so it lives in the
shell, above both; it only reads them. The modules: ``graph`` (the kinds of node
and edge, the graph), ``loaders`` (one query per kind of record), ``nodes``
(records as nodes and edges), ``selectors`` (``lineage_graph``), ``impact``,
``svg`` (the drawing), ``views`` and ``api`` (pages and the impact endpoint).
"""

from portal.lineage.graph import (
    ARTIFACT,
    DECIDED,
    DECISION,
    DEPLOYED,
    DEPLOYMENT,
    DERIVED,
    EDGE_LABELS,
    EVALUATED,
    EVALUATED_ON,
    EVALUATION,
    INPUT,
    KIND_LABELS,
    KINDS,
    PACKAGED,
    PRODUCED,
    REPLACED,
    REQUEST,
    REQUESTED,
    RESTORED,
    ROLLED_BACK,
    RUN,
    SNAPSHOT,
    TRAINED,
    VERSION,
    LineageEdge,
    LineageGraph,
    LineageNode,
    rollbacks_of,
)
from portal.lineage.impact import (
    Impact,
    ImpactedRun,
    ImpactedSnapshot,
    ImpactedVersion,
    impact_of_snapshot,
)
from portal.lineage.selectors import lineage_graph

__all__ = [
    "ARTIFACT",
    "DECIDED",
    "DECISION",
    "DEPLOYED",
    "DEPLOYMENT",
    "DERIVED",
    "EDGE_LABELS",
    "EVALUATED",
    "EVALUATED_ON",
    "EVALUATION",
    "INPUT",
    "KINDS",
    "KIND_LABELS",
    "PACKAGED",
    "PRODUCED",
    "REPLACED",
    "REQUEST",
    "REQUESTED",
    "RESTORED",
    "ROLLED_BACK",
    "RUN",
    "SNAPSHOT",
    "TRAINED",
    "VERSION",
    "Impact",
    "ImpactedRun",
    "ImpactedSnapshot",
    "ImpactedVersion",
    "LineageEdge",
    "LineageGraph",
    "LineageNode",
    "impact_of_snapshot",
    "lineage_graph",
    "rollbacks_of",
]
