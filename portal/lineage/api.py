"""Impact analysis over the API: ``GET /api/v1/datasets/{id}/impact``."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from kernel.api import ApiView, error_example
from models_registry import selectors
from models_registry.api.common import NOT_FOUND
from models_registry.api.datasets import SNAPSHOT_ID
from portal.lineage.impact import Impact, impact_of_snapshot


class ImpactSnapshotOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sha256 = serializers.CharField()
    team = serializers.CharField()
    depth = serializers.IntegerField(
        help_text="Derivation steps from the analysed snapshot."
    )
    parents = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the impacted snapshots it was derived from.",
    )


class ImpactRunInputOutput(serializers.Serializer):
    dataset = serializers.IntegerField()
    role = serializers.CharField()


class ImpactRunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    external_run_id = serializers.CharField()
    model = serializers.CharField()
    code_commit = serializers.CharField()
    inputs = ImpactRunInputOutput(many=True)


class ImpactEvaluationOutput(serializers.Serializer):
    dataset = serializers.IntegerField()
    split = serializers.CharField()


class ImpactVersionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    artifact_sha256 = serializers.CharField()
    trained_by = serializers.ListField(child=serializers.IntegerField())
    evaluated_on = ImpactEvaluationOutput(many=True)


class ImpactDeploymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.CharField()
    version = serializers.IntegerField()
    environment = serializers.CharField()
    strategy = serializers.CharField()
    traffic_percent = serializers.IntegerField()
    started_at = serializers.DateTimeField()


class ImpactHiddenOutput(serializers.Serializer):
    snapshots = serializers.IntegerField()
    runs = serializers.IntegerField()
    versions = serializers.IntegerField()
    deployments = serializers.IntegerField()


class ImpactOutput(serializers.Serializer):
    snapshot = ImpactSnapshotOutput()
    descendants = ImpactSnapshotOutput(many=True)
    runs = ImpactRunOutput(many=True)
    versions = ImpactVersionOutput(many=True)
    deployments = ImpactDeploymentOutput(
        many=True, help_text="Active deployments of impacted versions."
    )
    deployed_models = serializers.ListField(
        child=serializers.CharField(),
        help_text="Names of the models with an impacted version live now.",
    )
    hidden = ImpactHiddenOutput(
        help_text="Downstream records of models you may not see: counted, not named."
    )


def impact_as_data(impact: Impact) -> dict:
    def snapshot_data(entry):
        snapshot = entry.snapshot
        return {
            "id": snapshot.pk,
            "name": snapshot.name,
            "sha256": snapshot.sha256,
            "team": snapshot.team.slug,
            "depth": entry.depth,
            "parents": entry.parent_ids,
        }

    root = next(each for each in impact.snapshots if each.depth == 0)
    return {
        "snapshot": snapshot_data(root),
        "descendants": [snapshot_data(each) for each in impact.descendants],
        "runs": [
            {
                "id": each.run.pk,
                "external_run_id": each.run.external_run_id,
                "model": each.run.model.name,
                "code_commit": each.run.code_commit,
                "inputs": [
                    {"dataset": dataset, "role": role} for dataset, role in each.inputs
                ],
            }
            for each in impact.runs
        ],
        "versions": [
            {
                "id": each.version.pk,
                "model": each.version.model.name,
                "version": each.version.version,
                "status": each.version.status,
                "artifact_sha256": each.version.artifact.sha256,
                "trained_by": each.trained_by,
                "evaluated_on": [
                    {"dataset": dataset, "split": split}
                    for dataset, split in each.evaluated_on
                ],
            }
            for each in impact.versions
        ],
        "deployments": [
            {
                "id": each.pk,
                "model": each.model.name,
                "version": each.version.version,
                "environment": each.environment.name,
                "strategy": each.strategy,
                "traffic_percent": each.traffic_percent,
                "started_at": each.started_at,
            }
            for each in impact.deployments
        ],
        "deployed_models": [model.name for model in impact.deployed_models],
        "hidden": impact.hidden,
    }


IMPACT_EXAMPLE = {
    "snapshot": {
        "id": 12,
        "name": "loans-raw-2024",
        "sha256": "9f2c…",
        "team": "credit-risk",
        "depth": 0,
        "parents": [],
    },
    "descendants": [
        {
            "id": 14,
            "name": "loans-clean-2024",
            "sha256": "41aa…",
            "team": "credit-risk",
            "depth": 1,
            "parents": [12],
        }
    ],
    "runs": [
        {
            "id": 7,
            "external_run_id": "train-2024-06-01",
            "model": "credit-scoring",
            "code_commit": "3f9d2c1",
            "inputs": [{"dataset": 14, "role": "train"}],
        }
    ],
    "versions": [
        {
            "id": 31,
            "model": "credit-scoring",
            "version": 4,
            "status": "approved",
            "artifact_sha256": "c0ffee…",
            "trained_by": [7],
            "evaluated_on": [],
        }
    ],
    "deployments": [
        {
            "id": 9,
            "model": "credit-scoring",
            "version": 4,
            "environment": "production",
            "strategy": "full",
            "traffic_percent": 100,
            "started_at": "2024-06-03T09:00:00Z",
        }
    ],
    "deployed_models": ["credit-scoring"],
    "hidden": {"snapshots": 0, "runs": 1, "versions": 1, "deployments": 0},
}


class DatasetImpact(ApiView):
    @extend_schema(
        operation_id="datasets_impact",
        tags=["datasets"],
        summary="What is downstream of a dataset snapshot",
        description="For a snapshot found to hold bad or unlawfully kept data: the "
        "snapshots derived from it at any depth, the training runs that used any of "
        "them, the versions those runs trained or that were evaluated on them, and "
        "the active deployments of those versions (the models serving it now). "
        "Records of models you may not see are counted in `hidden`, not named.",
        parameters=[SNAPSHOT_ID],
        responses={200: ImpactOutput, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "A snapshot feeding a live model",
                value=IMPACT_EXAMPLE,
                response_only=True,
                status_codes=["200"],
            ),
            error_example(
                "Unknown or invisible snapshot",
                404,
                {
                    "code": "dataset_not_found",
                    "message": "No such dataset snapshot.",
                    "fields": {},
                },
            ),
        ],
    )
    def get(self, request, id):
        snapshot = selectors.dataset_get(actor=request.user, id=id)
        impact = impact_of_snapshot(actor=request.user, snapshot=snapshot)
        return Response(ImpactOutput(impact_as_data(impact)).data)
