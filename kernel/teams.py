"""Teams: groups that own models (``Team`` rows, group ``team:<slug>``)."""

from functools import cache

from django.db.models import Count

from kernel import db
from kernel.models import Team
from kernel.roles import group_ids

TEAM_COLUMNS = tuple(field.attname for field in Team._meta.concrete_fields)
_SLUG = TEAM_COLUMNS.index("slug")


def team_list_for_user(*, user):
    """The user's teams with their member counts (one query)."""
    return (
        Team.objects.filter(group__user=user)
        .annotate(member_count=Count("group__user", distinct=True))
        .order_by("name")
    )


@cache
def _select() -> str:
    return f"SELECT {', '.join(TEAM_COLUMNS)} FROM {Team._meta.db_table} WHERE "  # noqa: S608


def team_by_slug(slug: str) -> Team | None:
    """The team with this slug, if any (one prepared query)."""
    found = db.rows(_select() + "slug = %s", [slug])
    return db.instance(Team, TEAM_COLUMNS, found[0]) if found else None


def remember_teams(user, rows) -> None:
    """Cache the user's teams for the request: ``rows`` are their columns in
    ``TEAM_COLUMNS`` order (token authentication reads them with the token)."""
    user._gatehouse_team_rows = sorted(rows, key=lambda row: row[_SLUG])


def teams_of(user) -> list[Team]:
    """The user's teams by slug: those read with the API token, or from the
    groups read with the user's roles (one prepared query; none when the user
    is in no group)."""
    rows = getattr(user, "_gatehouse_team_rows", None)
    if rows is None:
        groups = sorted(group_ids(user))
        if not groups:
            return []
        condition, params = db.in_list("group_id", groups)
        rows = db.rows(_select() + condition + " ORDER BY slug", params)
    return [db.instance(Team, TEAM_COLUMNS, row) for row in rows]
