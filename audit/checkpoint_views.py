"""The auditor's "sign a checkpoint now" button (the checkpoint list is in
``audit.views``). People without the right get 404, as on every audit page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from audit.selectors import CHECKPOINT_PERMISSION, VIEW_PERMISSION, audit_access_check
from audit.services import audit_checkpoint_take
from audit.signing import AuditSigningKeyUnavailable


@login_required
@require_POST
def checkpoint_take(request):
    audit_access_check(actor=request.user, permission=VIEW_PERMISSION)
    audit_access_check(actor=request.user, permission=CHECKPOINT_PERMISSION)
    try:
        checkpoint = audit_checkpoint_take(actor=request.user)
    except AuditSigningKeyUnavailable as error:
        messages.error(request, f"No checkpoint was signed. {error.message}")
    else:
        messages.success(
            request,
            f"Signed a checkpoint at event {checkpoint.sequence}: your request is "
            "that event, and the checkpoint vouches for the chain up to it.",
        )
    return redirect("audit:checkpoint-list")
