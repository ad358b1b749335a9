from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from kernel.roles import ROLES, user_roles
from kernel.teams import team_list_for_user


class MeOutputSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES))
    teams = serializers.ListField(child=serializers.SlugField())
    authenticated_with = serializers.ChoiceField(choices=["token", "session"])


@extend_schema(
    operation_id="me",
    summary="Who am I",
    description="The authenticated user, with their roles and teams.",
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
            },
            response_only=True,
        )
    ],
    tags=["people"],
)
@api_view(["GET"])
def me(request):
    user = request.user
    roles = user_roles(user)
    body = {
        "username": user.get_username(),
        "email": user.email,
        "roles": [role for role in ROLES if role in roles],
        "teams": [team.slug for team in team_list_for_user(user=user)],
        "authenticated_with": "session" if request.auth is None else "token",
    }
    return Response(MeOutputSerializer(body).data)
