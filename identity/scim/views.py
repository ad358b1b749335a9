"""SCIM 2.0 endpoints (RFC 7644) for the identity provider: Users and Groups.

Authenticated by ``Authorization: Bearer <SCIM_TOKEN>``; with no SCIM_TOKEN
set, every route answers 404. Wrong tokens are counted per client address like
bad API tokens (``kernel.throttling``): past the failure limit the address gets
429 with Retry-After until the cool-off ends. Answers and errors are SCIM's own JSON
(``application/scim+json``), like the MLflow bridge speaks MLflow's: these
routes are a standard protocol, not part of the portal's OpenAPI schema.
"""

import hmac
import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from identity.models import ExternalIdentity
from identity.scim import parsing, services
from identity.scim.resources import (
    ScimError,
    answer,
    error_answer,
    group_resource,
    list_answer,
    service_provider_config,
    user_resource,
)
from kernel import throttling

logger = logging.getLogger("identity.scim")


def _authenticated(request) -> None:
    secret = settings.SCIM_TOKEN
    if not secret:
        raise ScimError(404, "SCIM provisioning is not configured.")
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        credentials.strip().encode("utf-8", "surrogatepass"),
        secret.encode("utf-8"),
    ):
        logger.warning("SCIM request with a wrong bearer token refused")
        # Counted and throttled per address like a bad API token.
        if throttling.token_failure_record(request):
            wait = throttling.retry_after(request, throttling.API_TOKEN_USERNAME)
            raise ScimError(
                429,
                "Too many failed authentication attempts from this address.",
                retry_after=wait,
            )
        raise ScimError(401, "A valid bearer token is required.")


def endpoint(**handlers: Callable):
    """A SCIM route: authenticate, dispatch on the method, SCIM errors."""

    @csrf_exempt
    def view(request, **kwargs):
        try:
            _authenticated(request)
            handler = handlers.get(request.method.lower())
            if handler is None:
                raise ScimError(405, f"{request.method} is not supported here.")
            return handler(request, **kwargs)
        except ScimError as error:
            return error_answer(error)

    return view


# --- Users --------------------------------------------------------------------------

_USER_FILTERS = {
    "username": "user__username",
    "externalid": "external_id",
    "emails.value": "user__email__iexact",
}


def _identities():
    return ExternalIdentity.objects.select_related("user")


def _identity(scim_id) -> ExternalIdentity:
    identity = _identities().filter(scim_id=parsing.scim_id(scim_id)).first()
    if identity is None:
        raise ScimError(404, "No such user.")
    return identity


def users_list(request):
    found = parsing.list_filter(request, _USER_FILTERS)
    start, count = parsing.page(request)
    identities = _identities().order_by("created_at", "pk")
    if found:
        identities = identities.filter(**{found[0]: found[1]})
    total = identities.count()
    chosen = identities[start - 1 : start - 1 + count] if count else []
    return list_answer([user_resource(request, i) for i in chosen], total, start)


def user_create(request):
    fields = parsing.user_fields(parsing.parse_body(request))
    identity = services.scim_user_create(fields=fields)
    body = user_resource(request, _identity(identity.scim_id))
    return answer(body, status=201, Location=body["meta"]["location"])


def user_get(request, scim_id):
    return answer(user_resource(request, _identity(scim_id)))


def user_replace(request, scim_id):
    fields = parsing.user_fields(parsing.parse_body(request))
    identity = services.scim_user_update(
        scim_id=parsing.scim_id(scim_id), change=lambda _: fields
    )
    return answer(user_resource(request, identity))


def user_patch(request, scim_id):
    data = parsing.parse_body(request)
    identity = services.scim_user_update(
        scim_id=parsing.scim_id(scim_id),
        change=lambda current: parsing.user_patched(current, data),
    )
    return answer(user_resource(request, identity))


def user_delete(request, scim_id):
    services.scim_user_delete(scim_id=parsing.scim_id(scim_id))
    return HttpResponse(status=204)


# --- Groups -------------------------------------------------------------------------

_GROUP_FILTERS = {"displayname": "display_name", "externalid": "external_id"}


def _group(scim_id):
    group = services.group_queryset().filter(scim_id=parsing.scim_id(scim_id)).first()
    if group is None:
        raise ScimError(404, "No such group.")
    return group


def groups_list(request):
    found = parsing.list_filter(request, _GROUP_FILTERS)
    start, count = parsing.page(request)
    groups = services.group_queryset().order_by("display_name")
    if found:
        groups = groups.filter(**{found[0]: found[1]})
    total = groups.count()
    chosen = groups[start - 1 : start - 1 + count] if count else []
    return list_answer([group_resource(request, g) for g in chosen], total, start)


def group_create(request):
    fields = parsing.group_fields(parsing.parse_body(request))
    group = services.scim_group_create(fields=fields)
    body = group_resource(request, group)
    return answer(body, status=201, Location=body["meta"]["location"])


def group_get(request, scim_id):
    return answer(group_resource(request, _group(scim_id)))


def group_replace(request, scim_id):
    fields = parsing.group_fields(parsing.parse_body(request))
    group = services.scim_group_update(
        scim_id=parsing.scim_id(scim_id), change=lambda _: fields
    )
    return answer(group_resource(request, group))


def group_patch(request, scim_id):
    data = parsing.parse_body(request)
    group = services.scim_group_update(
        scim_id=parsing.scim_id(scim_id),
        change=lambda current: parsing.group_patched(current, data),
    )
    return answer(group_resource(request, group))


def group_delete(request, scim_id):
    services.scim_group_delete(scim_id=parsing.scim_id(scim_id))
    return HttpResponse(status=204)


def provider_config(request):
    return answer(service_provider_config())


users = endpoint(get=users_list, post=user_create)
user = endpoint(get=user_get, put=user_replace, patch=user_patch, delete=user_delete)
groups = endpoint(get=groups_list, post=group_create)
group = endpoint(
    get=group_get, put=group_replace, patch=group_patch, delete=group_delete
)
config = endpoint(get=provider_config)
