"""Teams: groups that own models (``Team`` rows, group ``team:<slug>``)."""

from functools import cache

from django.db.models import Count

from kernel import db
from kernel.models import Team
from kernel.roles import group_ids

_COLUMNS = tuple(field.attname for field in Team._meta.concrete_fields)


def team_list_for_user(*, user):
    """The user's teams with their member counts (one query)."""
    return (
        Team.objects.filter(group__user=user)
        .annotate(member_count=Count("group__user", distinct=True))
        .order_by("name")
    )


@cache
def _select() -> str:
    return f"SELECT {', '.join(_COLUMNS)} FROM {Team._meta.db_table} WHERE "  # noqa: S608


def team_by_slug(slug: str) -> Team | None:
    """The team with this slug, if any (one prepared query)."""
    found = db.rows(_select() + "slug = %s", [slug])
    return db.instance(Team, _COLUMNS, found[0]) if found else None


def teams_of(user) -> list[Team]:
    """The user's teams by slug, from the groups read with the user's roles
    (one prepared query; none when the user is in no group)."""
    groups = sorted(group_ids(user))
    if not groups:
        return []
    condition, params = db.in_list("group_id", groups)
    found = db.rows(_select() + condition + " ORDER BY slug", params)
    return [db.instance(Team, _COLUMNS, row) for row in found]
