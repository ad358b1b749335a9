"""Service accounts over the API (scopes ``accounts:read`` / ``accounts:write``):
list, create, read, deactivate, and their tokens. The actor's permission is
checked before the body is read."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from kernel.api import ApiView, error_example, error_response
from kernel.scopes import SCOPE_NAMES
from kernel.teams import team_by_slug
from portal.accounts import access, selectors, services

FORBIDDEN = error_response("You may not manage service accounts (of this team).")
NOT_FOUND = error_response("No such service account, or one you may not see.")
BAD_REQUEST = error_response("Invalid fields (named); nothing was changed.")
ACCOUNT_ID = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description="Service account id."
)


class ServiceAccountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    team = serializers.SlugField(source="team.slug")
    description = serializers.CharField()
    is_active = serializers.BooleanField(source="user.is_active")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)


class ServiceAccountInput(serializers.Serializer):
    name = serializers.CharField(
        max_length=60, help_text="Lowercase letters, digits, hyphens: svc-<name>."
    )
    team = serializers.SlugField(help_text="Slug of the owning team.")
    description = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )


class TokenInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=SCOPE_NAMES), allow_empty=False
    )
    expires_in_days = serializers.IntegerField(min_value=1, max_value=365)


class TokenOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField(), source="scope_names")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class NewTokenOutput(TokenOutput):
    token = serializers.CharField(help_text="The secret: shown this once.")


def _token_body(token, plaintext: str | None = None) -> dict:
    body = {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "scope_names": [scope.name for scope in token.scope_list],
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }
    if plaintext is not None:
        body["token"] = plaintext
        return NewTokenOutput(body).data
    return TokenOutput(body).data


ACCOUNT_EXAMPLE = {
    "id": 3,
    "username": "svc-nightly-ci",
    "team": "credit-risk",
    "description": "Nightly training pipeline",
    "is_active": True,
    "created_at": "2026-12-03T09:00:00Z",
    "created_by": "lee",
}


class ServiceAccountListCreate(ApiView):
    @extend_schema(
        operation_id="service_accounts_list",
        tags=["people"],
        summary="Service accounts you may see",
        responses={200: ServiceAccountOutput(many=True)},
    )
    def get(self, request):
        return self.paginated(
            selectors.service_account_list(actor=request.user), ServiceAccountOutput
        )

    @extend_schema(
        operation_id="service_accounts_create",
        tags=["people"],
        summary="Create a service account of a team",
        description="Platform admins for any team, team leads for their own. The "
        "account gets its team and the data scientist's role; it never approves.",
        request=ServiceAccountInput,
        responses={201: ServiceAccountOutput, 400: BAD_REQUEST, 403: FORBIDDEN},
        examples=[
            OpenApiExample("Created", value=ACCOUNT_EXAMPLE, response_only=True),
            error_example(
                "Not a lead",
                403,
                {
                    "code": "permission_denied",
                    "message": "Only platform admins and team leads create "
                    "service accounts.",
                    "fields": {},
                },
            ),
        ],
    )
    def post(self, request):
        if not access.may_create_service_accounts(request.user):
            raise access.PermissionDenied(
                "Only platform admins and team leads create service accounts."
            )
        data = self.parse_body(ServiceAccountInput)
        team = team_by_slug(data["team"])
        account = services.service_account_create(
            actor=request.user,
            name=data["name"],
            team_id=team.pk if team else None,
            description=data["description"],
        )
        return Response(
            ServiceAccountOutput(account).data, status=status.HTTP_201_CREATED
        )


class ServiceAccountDetail(ApiView):
    @extend_schema(
        operation_id="service_accounts_read",
        tags=["people"],
        summary="One service account",
        parameters=[ACCOUNT_ID],
        responses={200: ServiceAccountOutput, 404: NOT_FOUND},
    )
    def get(self, request, id: int):
        account = selectors.service_account_get(actor=request.user, account_id=id)
        return Response(ServiceAccountOutput(account).data)


class ServiceAccountDeactivate(ApiView):
    @extend_schema(
        operation_id="service_accounts_deactivate",
        tags=["people"],
        summary="Deactivate a service account: its tokens stop at once",
        parameters=[ACCOUNT_ID],
        request=None,
        responses={
            200: ServiceAccountOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request, id: int):
        account = services.service_account_deactivate(actor=request.user, account_id=id)
        return Response(ServiceAccountOutput(account).data)


class ServiceAccountTokenListCreate(ApiView):
    @extend_schema(
        operation_id="service_accounts_tokens_list",
        tags=["people"],
        summary="A service account's tokens (never their secrets)",
        parameters=[ACCOUNT_ID],
        responses={200: TokenOutput(many=True), 404: NOT_FOUND},
    )
    def get(self, request, id: int):
        account = selectors.service_account_get(actor=request.user, account_id=id)
        tokens = selectors.service_account_tokens(account=account)
        page = self.paginate_queryset(tokens)
        return self.get_paginated_response([_token_body(token) for token in page])

    @extend_schema(
        operation_id="service_accounts_tokens_create",
        tags=["people"],
        summary="Create a token for a service account",
        description="Scopes from the list, never an approving one "
        "(decisions:write, validations:write, deployments:rollback); an expiry "
        "of 1 to 365 days. The secret is in this answer only.",
        parameters=[ACCOUNT_ID],
        request=TokenInput,
        responses={
            201: NewTokenOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request, id: int):
        account = selectors.service_account_get(actor=request.user, account_id=id)
        if refusal := access.manage_refusal(request.user, account):
            raise refusal
        data = self.parse_body(TokenInput)
        token, plaintext = services.service_account_token_create(
            actor=request.user,
            account_id=account.pk,
            name=data["name"],
            scopes=data["scopes"],
            expires_in_days=data["expires_in_days"],
        )
        return Response(_token_body(token, plaintext), status=status.HTTP_201_CREATED)


class ServiceAccountTokenRevoke(ApiView):
    @extend_schema(
        operation_id="service_accounts_tokens_revoke",
        tags=["people"],
        summary="Revoke a service account's token",
        parameters=[
            ACCOUNT_ID,
            OpenApiParameter("token_id", int, OpenApiParameter.PATH),
        ],
        request=None,
        responses={200: TokenOutput, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request, id: int, token_id: int):
        token = services.service_account_token_revoke(
            actor=request.user, account_id=id, token_id=token_id
        )
        return Response(_token_body(token))
