"""Model card pages: editing (with revision conflicts) and history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from kernel.errors import PermissionDenied as ServicePermissionDenied
from kernel.errors import ServiceError
from kernel.pages import add_service_errors, service_errors_as_http
from models_registry import access, selectors, services
from models_registry.errors import CardFrozen, CardRevisionConflict
from models_registry.forms import (
    ModelCardForm,
    card_labels,
)
from models_registry.models import (
    ModelCard,
    ModelCardRevision,
    card_fields,
)


def _card_initial(card: ModelCard) -> dict:
    return {"base_revision": card.revision, **card.content()}


@login_required
@require_http_methods(["GET", "POST"])
@service_errors_as_http
def card_edit(request, name: str, number: int):
    version = selectors.version_get_by_number(
        actor=request.user, model_name=name, number=number
    )
    if not access.has_model_permission(request.user, version.model, access.CHANGE):
        raise PermissionDenied("You may not edit this model's cards.")
    card = ModelCard.objects.select_related("updated_by").get(version=version)
    context = {"model": version.model, "version": version, "card": card}
    if request.method == "GET":
        if version.is_card_frozen:
            return render(request, "models_registry/card_edit.html", context)
        context["form"] = ModelCardForm(
            initial=_card_initial(card), kind=version.model.kind
        )
        return render(request, "models_registry/card_edit.html", context)

    form = ModelCardForm(request.POST, kind=version.model.kind)
    context["form"] = form
    if not form.is_valid():
        if version.is_card_frozen:
            return _card_frozen(request, context, CardFrozen.status_code, "")
        return render(request, "models_registry/card_edit.html", context, status=400)
    if (
        not version.is_card_frozen
        and form.cleaned_data["base_revision"] != card.revision
    ):
        form.add_error(
            None,
            f"Someone else saved revision {card.revision} while you were editing. "
            "Your text is kept below: compare it with the card history, then save "
            "again.",
        )
        # A second save, after looking, goes through.
        form.data = form.data.copy()
        form.data["base_revision"] = str(card.revision)
        return render(request, "models_registry/card_edit.html", context, status=409)
    try:
        updated = services.model_card_update(
            actor=request.user,
            version=version,
            expected_revision=form.cleaned_data["base_revision"],
            **form.sections(),
        )
    except CardFrozen as error:
        return _card_frozen(request, context, error.status_code, error.message)
    except CardRevisionConflict as error:
        form.add_error(None, f"{error.message} Your text is kept below.")
        return render(request, "models_registry/card_edit.html", context, status=409)
    except ServicePermissionDenied:
        raise
    except ServiceError as error:
        add_service_errors(form, error)
        return render(request, "models_registry/card_edit.html", context, status=400)
    if updated.revision == card.revision:
        messages.info(request, "Nothing changed: the card is as it was.")
    else:
        messages.success(request, f"Model card saved as revision {updated.revision}.")
    return redirect("registry:version-detail", name=version.model.name, number=number)


def _card_frozen(request, context: dict, status: int, message: str):
    context.pop("form", None)
    context["frozen_error"] = message
    return render(request, "models_registry/card_edit.html", context, status=status)


@login_required
@require_GET
@service_errors_as_http
def card_history(request, name: str, number: int):
    version = selectors.version_get_by_number(
        actor=request.user, model_name=name, number=number
    )
    # The version is visible (the selector checked); its revisions are its own.
    revisions = list(
        ModelCardRevision.objects.filter(card__version=version)
        .select_related("edited_by")
        .order_by("revision")
    )
    entries = []
    previous: dict[str, str] = {}
    labels, _ = card_labels(version.model.kind)
    for revision in revisions:
        content = revision.content
        changes = [
            {
                "label": labels.get(field, field),
                "before": previous.get(field, ""),
                "after": content.get(field, ""),
            }
            for field in card_fields(version.model.kind)
            if previous.get(field, "") != content.get(field, "")
        ]
        entries.append({"revision": revision, "changes": changes})
        previous = content
    entries.reverse()
    context = {"model": version.model, "version": version, "entries": entries}
    return render(request, "models_registry/card_history.html", context)
