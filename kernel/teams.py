"""Teams: groups that own models (``Team`` rows, group ``team:<slug>``)."""

from django.db.models import Count

from kernel.models import Team


def team_list_for_user(*, user):
    """The user's teams with their member counts (one query)."""
    return (
        Team.objects.filter(group__user=user)
        .annotate(member_count=Count("group__user", distinct=True))
        .order_by("name")
    )
