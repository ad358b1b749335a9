"""Dataset snapshot and training run pages."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kernel.pages import service_errors_as_http
from models_registry import access, selectors
from models_registry.models import (
    Evaluation,
)


@login_required
@require_GET
@service_errors_as_http
def dataset_detail(request, id: int):
    snapshot = selectors.dataset_get(actor=request.user, id=id)
    parents = list(selectors.dataset_list(actor=request.user).filter(children=snapshot))
    runs = []
    for run in (
        selectors.run_list(actor=request.user)
        .filter(run_inputs__snapshot=snapshot)
        .distinct()
    ):
        roles = sorted(
            {
                run_input.get_role_display()
                for run_input in run.run_inputs.all()
                if run_input.snapshot_id == snapshot.pk
            }
        )
        runs.append({"run": run, "roles": roles})
    evaluations = list(
        Evaluation.objects.filter(
            dataset=snapshot,
            version__model__in=access.models_for(request.user).values("pk"),
        )
        .select_related("version__model")
        .order_by("version__model__name", "-version__version", "split")
    )
    context = {
        "snapshot": snapshot,
        "parents": parents,
        "runs": runs,
        "evaluations": evaluations,
    }
    return render(request, "models_registry/dataset_detail.html", context)


@login_required
@require_GET
@service_errors_as_http
def run_detail(request, id: int):
    run = selectors.run_get(actor=request.user, id=id)
    versions = list(
        selectors.version_list(actor=request.user, model=run.model).filter(
            training_run=run
        )
    )
    context = {
        "run": run,
        "model": run.model,
        "parameters": sorted(run.parameters.items()),
        "run_inputs": sorted(
            run.run_inputs.all(),
            key=lambda run_input: (run_input.role, run_input.snapshot.name),
        ),
        "versions": versions,
    }
    return render(request, "models_registry/run_detail.html", context)
