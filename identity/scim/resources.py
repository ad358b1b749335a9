"""SCIM 2.0 (RFC 7643/7644) resources as JSON: users, groups, list answers,
errors and the service provider's configuration."""

from typing import Any

from django.http import JsonResponse
from django.urls import reverse

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
CONTENT_TYPE = "application/scim+json"

MAX_PAGE = 200


class ScimError(Exception):
    """An answer in SCIM's error format (RFC 7644 3.12); nothing was changed."""

    def __init__(
        self,
        status: int,
        detail: str,
        scim_type: str = "",
        *,
        retry_after: int | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type
        self.retry_after = retry_after


def invalid(detail: str, scim_type: str = "invalidValue") -> ScimError:
    return ScimError(400, detail, scim_type)


def answer(body: dict[str, Any], status: int = 200, **headers) -> JsonResponse:
    response = JsonResponse(body, status=status, content_type=CONTENT_TYPE)
    for name, value in headers.items():
        response[name] = value
    return response


def error_answer(error: ScimError) -> JsonResponse:
    body: dict[str, Any] = {
        "schemas": [ERROR_SCHEMA],
        "status": str(error.status),
        "detail": error.detail,
    }
    if error.scim_type:
        body["scimType"] = error.scim_type
    response = answer(body, status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response


def _meta(request, kind: str, url_name: str, resource) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "created": resource.created_at.isoformat(),
        "lastModified": resource.updated_at.isoformat(),
        "location": request.build_absolute_uri(
            reverse(url_name, args=[resource.scim_id])
        ),
    }


def user_resource(request, identity) -> dict[str, Any]:
    user = identity.user
    body: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "id": str(identity.scim_id),
        "userName": user.username,
        "name": {"givenName": user.first_name, "familyName": user.last_name},
        "displayName": user.get_full_name() or user.username,
        "active": user.is_active,
        "emails": (
            [{"value": user.email, "type": "work", "primary": True}]
            if user.email
            else []
        ),
        "meta": _meta(request, "User", "identity:scim-user", identity),
    }
    if identity.external_id:
        body["externalId"] = identity.external_id
    return body


def group_resource(request, group) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": str(group.scim_id),
        "displayName": group.display_name,
        "members": [
            {
                "value": str(member.external_identity.scim_id),
                "display": member.username,
                "$ref": request.build_absolute_uri(
                    reverse(
                        "identity:scim-user", args=[member.external_identity.scim_id]
                    )
                ),
            }
            for member in group.members.all()
        ],
        "meta": _meta(request, "Group", "identity:scim-group", group),
    }
    if group.external_id:
        body["externalId"] = group.external_id
    return body


def list_answer(resources: list, total: int, start_index: int) -> JsonResponse:
    return answer(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start_index,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


def service_provider_config() -> dict[str, Any]:
    return {
        "schemas": [CONFIG_SCHEMA],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_PAGE},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "Authorization: Bearer <SCIM_TOKEN>",
                "primary": True,
            }
        ],
    }
