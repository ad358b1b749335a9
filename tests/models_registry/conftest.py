import pytest

from tests.models_registry import factories


@pytest.fixture
def credit_model(data_scientist, team):
    return factories.make_model(data_scientist, team, name="credit-scoring")


@pytest.fixture
def other_data_scientist(other_team):
    from kernel import roles
    from tests.conftest import make_user

    return make_user("sam", roles.DATA_SCIENTIST, team=other_team)
