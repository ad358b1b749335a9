import pytest

from tests.oidc.server import oidc_provider, sso  # noqa: F401 (fixtures)


@pytest.fixture
def mapped(db, team):
    """IdP groups mapped to roles and to the ``team`` fixture's team."""
    from identity.models import GroupMapping
    from kernel import roles

    GroupMapping.objects.create(claim="gh-reviewers", role=roles.REVIEWER)
    GroupMapping.objects.create(claim="gh-risk", role=roles.RISK_OFFICER)
    GroupMapping.objects.create(claim="gh-admins", role=roles.PLATFORM_ADMIN)
    GroupMapping.objects.create(claim="gh-credit", team=team)
    return team
