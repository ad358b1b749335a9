"""The auditor's pages: browse the log, export it, verify it, sign its head.

Every page answers 404 to people without the audit permission (the selectors and
services check it; the views check first so a bad filter does not tell an
outsider that the page exists).
"""

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from audit.exports import checkpoint_json_chunks, csv_chunks, jsonl_event_chunks
from audit.forms import (
    AuditEventBrowseForm,
    AuditEventFilterForm,
    CheckpointListForm,
    CheckpointRangeForm,
)
from audit.selectors import (
    EXPORT_PERMISSION,
    VERIFY_PERMISSION,
    VIEW_PERMISSION,
    VIEW_VERIFICATIONS_PERMISSION,
    audit_access_check,
    audit_actor_may,
    audit_checkpoint_export_rows,
    audit_checkpoint_find,
    audit_checkpoint_list,
    audit_event_export_rows,
    audit_event_get,
    audit_event_list,
    audit_event_range_rows,
    chain_verification_list,
)
from audit.selectors.filter_values import audit_filter_values
from audit.services import audit_export_record, chain_verification_request
from audit.signing import (
    AuditSigningKeyUnavailable,
    key_id,
    public_key_pem,
    signing_key,
)
from kernel.labels import event_rows


def _may_export(user) -> bool:
    return audit_actor_may(actor=user, permission=EXPORT_PERMISSION)


def _browse_form(request) -> AuditEventBrowseForm:
    return AuditEventBrowseForm(
        request.GET, values=audit_filter_values(actor=request.user)
    )


def _url(name: str, query: dict) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(query)}" if query else url


@never_cache
@login_required
@require_GET
def event_list(request):
    audit_access_check(actor=request.user, permission=VIEW_PERMISSION)
    form = _browse_form(request)
    context = {"form": form, "page": None, "may_export": _may_export(request.user)}
    if not form.is_valid():
        return render(request, "audit/event_list.html", context, status=400)
    query = form.filter_query()
    page = audit_event_list(
        actor=request.user,
        filters=form.filters(),
        before=form.cleaned_data["before"],
        after=form.cleaned_data["after"],
    )
    context.update(
        page=page,
        rows=event_rows(page.events),
        is_filtered=bool(query),
        newest_url=_url("audit:event-list", query),
        older_url=_url("audit:event-list", {**query, "before": page.older_before})
        if page.older_before is not None
        else None,
        newer_url=_url("audit:event-list", {**query, "after": page.newer_after})
        if page.newer_after is not None
        else None,
        is_first_page=form.cleaned_data["before"] is None
        and form.cleaned_data["after"] is None,
        export_url=_url("audit:event-export-csv", query),
    )
    return render(request, "audit/event_list.html", context)


@never_cache
@login_required
@require_GET
def event_detail(request, sequence: int):
    detail = audit_event_get(actor=request.user, sequence=sequence)
    payload = json.dumps(detail.event.payload, indent=2, ensure_ascii=False)
    context = {
        "detail": detail,
        "payload": payload,
        "target_url": event_rows([detail.event])[0]["target_url"],
    }
    return render(request, "audit/event_detail.html", context)


@never_cache
@login_required
@require_GET
def event_export_csv(request):
    audit_access_check(actor=request.user, permission=EXPORT_PERMISSION)
    form = AuditEventFilterForm(request.GET)
    if not form.is_valid():
        form = _browse_form(request)
        form.is_valid()  # the same errors, shown with the choices
        context = {"form": form, "page": None, "may_export": True}
        return render(request, "audit/event_list.html", context, status=400)
    filters = form.filters()
    head = audit_export_record(
        actor=request.user,
        export_format="csv",
        details={"filters": filters.as_payload()},
    )
    rows = audit_event_export_rows(actor=request.user, filters=filters, up_to=head)
    response = StreamingHttpResponse(
        csv_chunks(rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="audit-events-to-{head}.csv"'
    )
    return response


@never_cache
@login_required
@require_GET
def verification_list(request):
    verifications = chain_verification_list(actor=request.user)
    context = {
        "verifications": verifications,
        "may_verify": audit_actor_may(actor=request.user, permission=VERIFY_PERMISSION),
    }
    return render(request, "audit/verification_list.html", context)


@login_required
@require_POST
def verification_run(request):
    audit_access_check(actor=request.user, permission=VIEW_VERIFICATIONS_PERMISSION)
    chain_verification_request(actor=request.user)
    messages.success(
        request,
        "Chain verification queued. Its result appears below when it finishes; "
        "reload the page to see it.",
    )
    return redirect("audit:verification-list")


def _signing_status():
    """(public key, None) or (None, why there is no key)."""
    try:
        return signing_key().public_key(), None
    except AuditSigningKeyUnavailable as error:
        return None, error.message


@never_cache
@login_required
@require_GET
def checkpoint_list(request):
    audit_access_check(actor=request.user, permission=VIEW_PERMISSION)
    list_form = CheckpointListForm(request.GET)
    public_key, key_problem = _signing_status()
    context = {
        "page": None,
        "list_form": list_form,
        "range_form": CheckpointRangeForm(
            find_checkpoint=lambda sequence: None, auto_id="range_%s"
        ),
        "key_id": key_id(public_key) if public_key else None,
        "key_problem": key_problem,
        "may_export": _may_export(request.user),
    }
    if not list_form.is_valid():
        return render(request, "audit/checkpoint_list.html", context, status=400)
    before = list_form.cleaned_data["before"]
    page = audit_checkpoint_list(
        actor=request.user, public_key=public_key, before=before
    )
    context.update(
        page=page,
        is_first_page=before is None,
        older_url=_url("audit:checkpoint-list", {"before": page.older_before})
        if page.older_before is not None
        else None,
    )
    return render(request, "audit/checkpoint_list.html", context)


@never_cache
@login_required
@require_GET
def checkpoint_public_key(request):
    audit_access_check(actor=request.user, permission=VIEW_PERMISSION)
    public_key, key_problem = _signing_status()
    if public_key is None:
        messages.error(request, key_problem)
        return redirect("audit:checkpoint-list")
    response = HttpResponse(
        public_key_pem(public_key), content_type="application/x-pem-file"
    )
    response["Content-Disposition"] = 'attachment; filename="audit-public-key.pem"'
    return response


@never_cache
@login_required
@require_GET
def checkpoint_export(request):
    audit_access_check(actor=request.user, permission=EXPORT_PERMISSION)
    head = audit_export_record(actor=request.user, export_format="checkpoints")
    rows = audit_checkpoint_export_rows(actor=request.user)
    response = StreamingHttpResponse(
        checkpoint_json_chunks(rows, head), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="audit-checkpoints.json"'
    return response


@never_cache
@login_required
@require_GET
def checkpoint_range_export(request):
    audit_access_check(actor=request.user, permission=EXPORT_PERMISSION)
    form = CheckpointRangeForm(
        request.GET,
        find_checkpoint=lambda sequence: audit_checkpoint_find(
            actor=request.user, sequence=sequence
        ),
        auto_id="range_%s",
    )
    if not form.is_valid():
        public_key, key_problem = _signing_status()
        context = {
            "page": None,
            "list_form": CheckpointListForm(),
            "range_form": form,
            "key_id": key_id(public_key) if public_key else None,
            "key_problem": key_problem,
            "may_export": True,
        }
        return render(request, "audit/checkpoint_list.html", context, status=400)
    start = form.cleaned_data["from_sequence"]
    end = form.cleaned_data["to_sequence"]
    audit_export_record(
        actor=request.user,
        export_format="event-range",
        details={"from_sequence": start, "to_sequence": end},
    )
    rows = audit_event_range_rows(
        actor=request.user, from_sequence=start, to_sequence=end
    )
    response = StreamingHttpResponse(
        jsonl_event_chunks(rows), content_type="application/x-ndjson; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="audit-events-{start}-{end}.jsonl"'
    )
    return response
