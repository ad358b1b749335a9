"""Service account pages: the list (and create form), one account with its
tokens (and the create-a-token form), deactivate, revoke a token."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from kernel.errors import ServiceError
from kernel.pages import add_service_errors, service_errors_as_http
from portal.accounts import access, selectors, services
from portal.accounts.forms import ServiceAccountCreateForm
from portal.forms import ApiTokenCreateForm
from portal.new_tokens import pop_new_token, remember_new_token


@login_required
@service_errors_as_http
@require_http_methods(["GET", "POST"])
def service_account_list(request):
    actor = request.user
    if not access.may_see_service_accounts(actor):
        raise PermissionDenied("Only platform admins, team leads and auditors.")
    may_create = access.may_create_service_accounts(actor)
    form = ServiceAccountCreateForm(actor=actor) if may_create else None
    status = 200
    if request.method == "POST":
        if not may_create:
            raise PermissionDenied("Only platform admins and team leads.")
        form = ServiceAccountCreateForm(request.POST, actor=actor)
        if form.is_valid():
            try:
                account = services.service_account_create(
                    actor=actor,
                    name=form.cleaned_data["name"],
                    team_id=form.cleaned_data["team"].pk,
                    description=form.cleaned_data["description"],
                )
            except ServiceError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, f"Service account “{account}” created: give it a token."
                )
                return redirect("service-account", account_id=account.pk)
        status = 400
    context = {
        "accounts": selectors.service_account_list(actor=actor),
        "form": form,
    }
    return render(request, "portal/accounts/list.html", context, status=status)


@never_cache
@login_required
@service_errors_as_http
@require_http_methods(["GET", "POST"])
def service_account_detail(request, account_id: int):
    actor = request.user
    account = selectors.service_account_get(actor=actor, account_id=account_id)
    may_manage = access.may_manage(actor, account)
    form = ApiTokenCreateForm(service_account=True) if may_manage else None
    status = 200
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied("You may not manage this service account.")
        form = ApiTokenCreateForm(request.POST, service_account=True)
        if form.is_valid():
            try:
                token, plaintext = services.service_account_token_create(
                    actor=actor,
                    account_id=account.pk,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_in_days=form.cleaned_data["expires_in_days"],
                )
            except ServiceError as error:
                add_service_errors(form, error)
            else:
                remember_new_token(request, token, plaintext)
                messages.success(request, f"Token “{token.name}” created.")
                return redirect("service-account", account_id=account.pk)
        status = 400
    new_token = (
        pop_new_token(request, owner_id=account.user_id)
        if request.method == "GET"
        else None
    )
    context = {
        "account": account,
        "tokens": selectors.service_account_tokens(account=account),
        "form": form,
        "may_manage": may_manage,
        "new_token": new_token,
    }
    return render(request, "portal/accounts/detail.html", context, status=status)


@login_required
@service_errors_as_http
@require_POST
def service_account_deactivate(request, account_id: int):
    try:
        account = services.service_account_deactivate(
            actor=request.user, account_id=account_id
        )
    except ServiceError as error:
        if error.status_code in (403, 404):
            raise
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"“{account}” is deactivated: its tokens no longer work."
        )
    return redirect("service-account", account_id=account_id)


@login_required
@service_errors_as_http
@require_POST
def service_account_token_revoke(request, account_id: int, token_id: int):
    try:
        token = services.service_account_token_revoke(
            actor=request.user, account_id=account_id, token_id=token_id
        )
    except ServiceError as error:
        if error.status_code in (403, 404):
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, f"Token “{token.name}” revoked. It no longer works.")
    return redirect("service-account", account_id=account_id)
