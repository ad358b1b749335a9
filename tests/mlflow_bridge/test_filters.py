"""MLflow's filter syntax, parsed without MLflow."""

import re

import pytest

from mlflow_bridge.errors import MlflowError
from mlflow_bridge.filters import Clause, like_to_regex, parse


def test_parses_attributes_tags_and_lists():
    assert parse(
        "name LIKE 'credit%' AND tags.`gatehouse.team` = \"risk\" "
        "and tag.owner != 'dana' AND run_id IN ('a', 'b') AND version_number >= 2"
    ) == [
        Clause("attribute", "name", "LIKE", "credit%"),
        Clause("tag", "gatehouse.team", "=", "risk"),
        Clause("tag", "owner", "!=", "dana"),
        Clause("attribute", "run_id", "IN", ("a", "b")),
        Clause("attribute", "version_number", ">=", 2),
    ]


def test_reads_quoted_keys_and_escaped_quotes():
    assert parse("tags.\"a b\" ILIKE 'it\\'s%'") == [
        Clause("tag", "a b", "ILIKE", "it's%")
    ]
    assert parse("attribute.name NOT IN ('x')") == [
        Clause("attribute", "name", "NOT IN", ("x",))
    ]


@pytest.mark.parametrize("text", ["", "   ", None])
def test_an_empty_filter_matches_everything(text):
    assert parse(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "name =",
        "name = 'a' OR name = 'b'",
        "name 'a'",
        "name = 'a' AND",
        "= 'a'",
        "name IN 'a'",
        "params.x = 'a'",
        "name = 'unterminated",
    ],
)
def test_refuses_what_it_cannot_read(text):
    with pytest.raises(MlflowError) as caught:
        parse(text)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_like_patterns_become_anchored_regexes():
    pattern = like_to_regex("cr_dit%.v1")
    assert re.match(pattern, "credit-scoring.v1")
    assert re.match(pattern, "crXdit.v1")
    assert not re.match(pattern, "credit-scoringXv1")
    assert not re.match(pattern, "a credit.v1")
