"""The lineage graph's vocabulary: the kinds of node and edge, and the graph.

A node is one record (a snapshot, run, artifact, version, evaluation, request,
decision or deployment); an edge goes from an upstream record to the record it
led to. ``portal.lineage.selectors.lineage_graph`` builds the graph.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from approvals.models import Deployment, DeploymentStatus
from models_registry.models import ModelVersion, RegisteredModel

SNAPSHOT = "snapshot"
RUN = "run"
ARTIFACT = "artifact"
VERSION = "version"
EVALUATION = "evaluation"
REQUEST = "request"
DECISION = "decision"
DEPLOYMENT = "deployment"

# Left to right, the order the lineage page draws its columns in.
KINDS = (
    SNAPSHOT,
    RUN,
    ARTIFACT,
    VERSION,
    EVALUATION,
    REQUEST,
    DECISION,
    DEPLOYMENT,
)
KIND_LABELS = {
    SNAPSHOT: "Dataset snapshot",
    RUN: "Training run",
    ARTIFACT: "Artifact",
    VERSION: "Model version",
    EVALUATION: "Evaluation",
    REQUEST: "Approval request",
    DECISION: "Decision",
    DEPLOYMENT: "Deployment",
}

# Edge kinds: upstream record → downstream record.
DERIVED = "derived"  # parent snapshot → snapshot derived from it
INPUT = "input"  # snapshot → run (label: the role, e.g. "train")
PRODUCED = "produced"  # run → artifact
PACKAGED = "packaged"  # artifact → version
TRAINED = "trained"  # run → version, when the version names a run its artifact does not
EVALUATED = "evaluated"  # version → evaluation
EVALUATED_ON = "evaluated_on"  # snapshot → evaluation
REQUESTED = "requested"  # version → request
DECIDED = "decided"  # request → decision
DEPLOYED = "deployed"  # request (or version, for a restore) → deployment
REPLACED = "replaced"  # deployment → the deployment that replaced it
RESTORED = "restored"  # deployment → the rollback's deployment that restores it
ROLLED_BACK = "rolled_back"  # rolled-back deployment → the one the rollback started

EDGE_LABELS = {
    DERIVED: "derived into",
    INPUT: "input of",
    PRODUCED: "produced",
    PACKAGED: "packaged as",
    TRAINED: "trained",
    EVALUATED: "evaluated in",
    EVALUATED_ON: "evaluation data of",
    REQUESTED: "requested in",
    DECIDED: "decided by",
    DEPLOYED: "deployed as",
    REPLACED: "replaced by",
    RESTORED: "restored by",
    ROLLED_BACK: "rolled back to",
}


@dataclass
class LineageNode:
    kind: str
    pk: int
    label: str
    caption: str = ""
    # The record itself (None for a snapshot the actor may not see).
    obj: Any = None
    is_hidden: bool = False
    # Snapshots only: derivation steps from the snapshots used directly (0).
    depth: int = 0

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.pk}"


@dataclass(frozen=True)
class LineageEdge:
    source: str
    target: str
    kind: str
    label: str = ""


@dataclass
class LineageGraph:
    model: RegisteredModel
    version: ModelVersion | None
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    _index: dict[str, LineageNode] = field(default_factory=dict, repr=False)
    _in: dict[str, list[LineageEdge]] = field(default_factory=dict, repr=False)
    _out: dict[str, list[LineageEdge]] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._index = {node.key: node for node in self.nodes}
        self._in = defaultdict(list)
        self._out = defaultdict(list)
        for edge in self.edges:
            self._out[edge.source].append(edge)
            self._in[edge.target].append(edge)

    def node(self, key: str) -> LineageNode:
        return self._index[key]

    def of_kind(self, kind: str) -> list[LineageNode]:
        return [node for node in self.nodes if node.kind == kind]

    def upstream(self, key: str) -> list[tuple[LineageEdge, LineageNode]]:
        return [(edge, self._index[edge.source]) for edge in self._in.get(key, [])]

    def downstream(self, key: str) -> list[tuple[LineageEdge, LineageNode]]:
        return [(edge, self._index[edge.target]) for edge in self._out.get(key, [])]

    @property
    def max_depth(self) -> int:
        return max((node.depth for node in self.of_kind(SNAPSHOT)), default=0)


def rollbacks_of(
    deployments: list[Deployment],
) -> list[tuple[Deployment, Deployment | None]]:
    """Each rolled-back deployment with the deployment its rollback started.

    A rollback ends the live deployment and, unless its target was still live,
    starts a new row (source "rollback") that restores the target at the same
    instant in the same environment. None when nothing new had to start.
    """
    restorers = {
        (each.restores_id, each.environment_id, each.started_at): each
        for each in deployments
        if each.restores_id is not None
    }
    pairs = []
    for each in deployments:
        if each.status != DeploymentStatus.ROLLED_BACK:
            continue
        restored = restorers.get(
            (each.rollback_target_id, each.environment_id, each.ended_at)
        )
        pairs.append((each, restored))
    return pairs
