"""The one visibility rule (models_registry.access), as SQL inside querysets:
it must agree with the per-object check for everyone, count the global
permission for VIEW only, stay right inside subqueries and take effect at once
when a grant is taken away."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from guardian.shortcuts import assign_perm, remove_perm

from kernel import roles
from models_registry import access
from models_registry.models import ModelVersion, RegisteredModel
from tests.conftest import make_user
from tests.models_registry import factories

pytestmark = pytest.mark.django_db

CODENAMES = (access.VIEW, access.CHANGE, access.REGISTER, access.REVIEW)


@pytest.fixture
def world(data_scientist, other_data_scientist, team, other_team):
    credit = factories.make_model(data_scientist, team, name="credit")
    feed = factories.make_model(other_data_scientist, other_team, name="feed")
    factories.make_version(data_scientist, credit)
    factories.make_version(other_data_scientist, feed)
    return credit, feed


@pytest.fixture
def people(data_scientist, other_data_scientist, reviewer, auditor, outsider):
    direct = make_user("dir")
    global_direct = make_user("glo")
    global_direct.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="models_registry", codename=access.VIEW
        )
    )
    inactive = make_user("ina", roles.AUDITOR, is_active=False)
    superuser = make_user("root", is_superuser=True)
    return {
        "team member": data_scientist,
        "other team": other_data_scientist,
        "reviewer": reviewer,
        "auditor (group)": auditor,
        "global (user)": global_direct,
        "direct grant": direct,
        "outsider": outsider,
        "inactive auditor": inactive,
        "superuser": superuser,
    }


def _oracle(person, codename: str, model) -> bool:
    """The rule through Django's and django-guardian's own backends."""
    if not person.is_active:
        return False
    return person.has_perm(f"models_registry.{codename}", model) or (
        codename == access.VIEW and person.has_perm(f"models_registry.{codename}")
    )


def test_sql_rule_agrees_with_djangos_and_guardians_backends(world, people):
    credit, feed = world
    assign_perm(access.VIEW, people["direct grant"], credit)
    assign_perm(access.REVIEW, people["reviewer"], feed)
    for label, person in people.items():
        for codename in CODENAMES:
            expected = {
                model.name
                for model in (credit, feed)
                if _oracle(person, codename, model)
            }
            got = set(
                access.models_for(person, codename).values_list("name", flat=True)
            )
            assert got == expected, (label, codename)
            held = {
                model.name
                for model in (credit, feed)
                if access.has_model_permission(person, model, codename)
            }
            assert held == expected, (label, codename)


def test_global_permission_counts_for_view_only(world, people):
    auditor = people["auditor (group)"]
    assert access.models_for(auditor).count() == 2
    assert not access.models_for(auditor, access.CHANGE).exists()
    assert not access.models_for(people["global (user)"], access.REGISTER).exists()
    assert not access.models_for(people["inactive auditor"]).exists()


def test_rule_holds_inside_subqueries_and_through_joins(world, data_scientist):
    credit, _ = world
    visible = access.models_for(data_scientist)
    versions = ModelVersion.objects.filter(model__in=visible)
    assert {version.model_id for version in versions} == {credit.pk}
    joined = ModelVersion.objects.filter(
        access.Holding(data_scientist, access.VIEW, "model_id")
    )
    assert {version.model_id for version in joined} == {credit.pk}
    # Both sides of a query holding the rule twice, for two people.
    both = RegisteredModel.objects.filter(
        access.Holding(data_scientist, access.VIEW)
    ).filter(pk__in=access.models_for(data_scientist, access.CHANGE))
    assert list(both.values_list("name", flat=True)) == ["credit"]


def test_taking_a_grant_away_takes_effect_at_once(world, data_scientist, team):
    credit, _ = world
    assert access.models_for(data_scientist).filter(pk=credit.pk).exists()
    data_scientist.groups.remove(team.group)
    assert not access.models_for(data_scientist).exists()
    direct = make_user("direct")
    assign_perm(access.VIEW, direct, credit)
    assert access.models_for(direct).count() == 1
    remove_perm(access.VIEW, direct, credit)
    assert not access.models_for(direct).exists()


def test_checking_costs_no_queries_of_its_own(
    world, auditor, data_scientist, django_assert_num_queries
):
    credit, _ = world
    for fixture in (auditor, data_scientist):
        person = type(fixture).objects.get(pk=fixture.pk)  # nothing cached yet
        with django_assert_num_queries(1):
            list(access.models_for(person))
        # Everything held on one model: one query, then cached on the person.
        with django_assert_num_queries(1):
            assert access.has_model_permission(person, credit, access.VIEW)
            access.has_model_permission(person, credit, access.CHANGE)


def test_a_team_reviewer_gets_every_model_of_the_team_in_fixed_queries(
    data_scientist, other_data_scientist, platform_admin, team, other_team
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from models_registry import services

    factories.make_model(other_data_scientist, other_team, name="solo")
    models = [
        factories.make_model(data_scientist, team, name=f"m-{n}") for n in range(6)
    ]
    counts = []
    for index, each_team in enumerate((other_team, team)):
        reviewer = make_user(f"rhea{index}", roles.REVIEWER)
        with CaptureQueriesContext(connection) as captured:
            services.model_reviewer_assign(
                actor=platform_admin, user=reviewer, team=each_team
            )
        counts.append(len(captured))
    assert counts[1] <= counts[0]  # six models cost no more than one
    assert set(
        access.models_for(reviewer, access.REVIEW).values_list("name", flat=True)
    ) == {model.name for model in models}
    # A model registered later is given to the team's reviewers too.
    later = factories.make_model(data_scientist, team, name="m-later")
    assert access.has_model_permission(
        type(reviewer).objects.get(pk=reviewer.pk), later, access.REVIEW
    )


def _nodes(plan: dict, loops: int = 1):
    """Each node of a plan with the most times it or a node above it ran."""
    loops = max(loops, plan.get("Actual Loops", 1))
    yield plan, loops
    for child in plan.get("Plans", []):
        yield from _nodes(child, loops)


@pytest.mark.parametrize("persona", ["data_scientist", "reviewer"])
def test_a_list_looks_up_the_permission_once_not_per_model(
    request, data_scientist, team, persona
):
    for number in range(12):
        factories.make_model(data_scientist, team, name=f"m-{number}")
    reader = request.getfixturevalue(persona)
    sql, params = access.models_for(reader).query.sql_with_params()
    numbered = sql.replace("%s", "{}").format(
        *(f"${n + 1}" for n in range(len(params)))
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the plan of a database that has statistics
        # The plan a prepared statement keeps (kernel.db), made for any values.
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE gh_rule AS {numbered}")
        try:
            values = ", ".join(["%s"] * len(params))
            cursor.execute(
                f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE gh_rule({values})", params
            )
            (plan,) = cursor.fetchone()[0]
        finally:
            cursor.execute("DEALLOCATE gh_rule")
            cursor.execute("RESET plan_cache_mode")
    # Run once per statement (or never), not once per model tested.
    loops = [
        loops
        for node, loops in _nodes(plan["Plan"])
        if node.get("Relation Name") == Permission._meta.db_table
    ]
    assert loops, plan
    assert max(loops) <= 1, loops
