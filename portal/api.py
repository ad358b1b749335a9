from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from kernel.roles import ROLES, is_service_account, user_roles
from kernel.scopes import SCOPE_NAMES, scopes_text
from kernel.teams import team_list_for_user


class MeOutputSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES))
    teams = serializers.ListField(child=serializers.SlugField())
    authenticated_with = serializers.ChoiceField(choices=["token", "session"])
    service_account = serializers.BooleanField()
    token_scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=SCOPE_NAMES),
        allow_null=True,
        help_text="The calling token's scopes; null for a session (not scoped).",
    )
    token_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the calling token expires (null: never)."
    )


@extend_schema(
    operation_id="me",
    summary="Who am I",
    description=(
        "The authenticated user, with their roles and teams, and the calling "
        "token's scopes and expiry."
    ),
    responses=MeOutputSerializer,
    examples=[
        OpenApiExample(
            "A data scientist",
            value={
                "username": "dana",
                "email": "dana@example.com",
                "roles": ["data_scientist"],
                "teams": ["credit-risk"],
                "authenticated_with": "token",
                "service_account": False,
                "token_scopes": ["registry:read", "registry:write"],
                "token_expires_at": "2027-03-01T09:00:00Z",
            },
            response_only=True,
        )
    ],
    tags=["people"],
)
@api_view(["GET"])
def me(request):
    user, token = request.user, request.auth
    roles = user_roles(user)
    body = {
        "username": user.get_username(),
        "email": user.email,
        "roles": [role for role in ROLES if role in roles],
        "teams": [team.slug for team in team_list_for_user(user=user)],
        "authenticated_with": "session" if token is None else "token",
        "service_account": is_service_account(user),
        "token_scopes": None if token is None else scopes_text(token.scope_set).split(),
        "token_expires_at": None if token is None else token.expires_at,
    }
    return Response(MeOutputSerializer(body).data)
