from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from approvals.access import holds_approving_role
from approvals.selectors import request_queue
from kernel.errors import ServiceError
from kernel.labels import event_rows
from kernel.pages import add_service_errors
from kernel.scopes import SCOPE_LABELS
from kernel.throttling import is_locked, retry_after
from portal.accounts.access import may_see_service_accounts
from portal.forms import ApiTokenCreateForm
from portal.health import health_report
from portal.new_tokens import pop_new_token, remember_new_token
from portal.selectors import api_token_list, home_dashboard
from portal.services import api_token_create, api_token_revoke


class ThrottledLoginView(LoginView):
    """Django's login page; a locked-out username gets a page that says so
    (429 with Retry-After) instead of the usual "did not match"."""

    redirect_authenticated_user = True

    def form_invalid(self, form):
        username = str(form.data.get("username", ""))[:150]
        if username and is_locked(self.request, username):
            wait = retry_after(self.request, username)
            response = render(
                self.request,
                "registration/locked_out.html",
                {"minutes": max(1, -(-wait // 60))},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        return super().form_invalid(form)


HOME_WAITING_SHOWN = 10


@login_required
@require_GET
def home(request):
    dashboard = home_dashboard(user=request.user)
    # The requests this person may decide now, oldest first (approvals' rule).
    waiting = request_queue(actor=request.user)
    context = {
        "dashboard": dashboard,
        "recent_rows": event_rows(dashboard.recent_events),
        "waiting": waiting[:HOME_WAITING_SHOWN],
        "waiting_count": len(waiting),
        "is_approver": holds_approving_role(request.user),
    }
    return render(request, "portal/home.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    if request.method == "POST":
        form = ApiTokenCreateForm(request.POST)
        if form.is_valid():
            try:
                token, plaintext = api_token_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_in_days=form.cleaned_data["expires_in_days"],
                )
            except ServiceError as error:
                add_service_errors(form, error)
            else:
                remember_new_token(request, token, plaintext)
                messages.success(request, f"Token “{token.name}” created.")
                return redirect("api-tokens")
    else:
        form = ApiTokenCreateForm()
    context = {
        "form": form,
        "tokens": api_token_list(user=request.user),
        "new_token": pop_new_token(request, owner_id=request.user.pk)
        if request.method == "GET"
        else None,
        "scope_labels": SCOPE_LABELS,
        "may_see_service_accounts": may_see_service_accounts(request.user),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/api_tokens.html", context, status=status)


@login_required
@require_POST
def api_token_revoke_view(request, token_id: int):
    try:
        token = api_token_revoke(actor=request.user, token_id=token_id)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("api-tokens")
    messages.success(request, f"Token “{token.name}” revoked. It no longer works.")
    return redirect("api-tokens")


@never_cache
@require_GET
def healthz(request):
    is_ok, report = health_report()
    return JsonResponse(report, status=200 if is_ok else 503)
