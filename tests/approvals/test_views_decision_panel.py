"""The decision panel: beside the summary, and a refused submit that says so
where the reviewer looks, focused and announced, with what she typed kept."""

import re

import pytest
from django.urls import reverse

from approvals.models import Decision
from tests.approvals.conftest import submit
from tests.approvals.pages import body, get_as, post_as

pytestmark = pytest.mark.django_db


def _urls(request_):
    return (
        reverse("approvals:request-detail", args=[request_.pk]),
        reverse("approvals:request-decide", args=[request_.pk]),
    )


def test_the_panel_comes_right_after_the_summary(client, world):
    detail, _ = _urls(submit(world))
    page = body(get_as(client, world.users.reviewer, detail))
    order = [
        page.index(marker)
        for marker in (
            'id="request-heading"',
            'id="decide-heading"',
            'id="gates-heading"',
            'id="decisions-heading"',
        )
    ]
    assert order == sorted(order)
    assert '<aside class="decision-panel" id="decide" aria-label="Your decision">' in (
        page
    )
    assert 'class="request-layout has-panel"' in page


def test_people_who_may_not_decide_see_no_panel(client, world):
    detail, _ = _urls(submit(world))
    page = body(get_as(client, world.users.auditor, detail))
    assert 'id="decide"' not in page
    assert 'class="request-layout"' in page


def test_a_refused_reject_is_focused_announced_and_linked(client, world):
    request_ = submit(world)
    _, decide = _urls(request_)
    response = post_as(
        client, world.users.reviewer, decide, {"outcome": "reject", "comment": "  "}
    )
    assert response.status_code == 400
    page = body(response)
    summary = re.search(r'<div class="error-summary"[^>]*>', page).group(0)
    for attribute in (
        'role="alert"',
        'id="decide-errors"',
        'tabindex="-1"',
        "autofocus",
    ):
        assert attribute in summary
    assert (
        '<a href="#id_comment">Say why: a rejection or a change request needs a '
        "comment.</a>" in page
    )
    textarea = re.search(r"<textarea [^>]*>", page).group(0)
    assert 'aria-invalid="true"' in textarea
    assert 'aria-describedby="id_comment_help id_comment_error"' in textarea
    assert re.search(r'value="reject"[^>]*checked', page)
    # The panel still sits before the evidence on the refused page.
    assert page.index('id="decide-errors"') < page.index('id="gates-heading"')
    assert not Decision.objects.filter(request=request_).exists()


def test_a_refused_submit_keeps_the_typed_comment(client, world):
    request_ = submit(world)
    _, decide = _urls(request_)
    typed = "Slices hold <b>well</b>; I still need to pick."
    response = post_as(client, world.users.reviewer, decide, {"comment": typed})
    assert response.status_code == 400
    page = body(response)
    assert (
        ">Slices hold &lt;b&gt;well&lt;/b&gt;; I still need to pick.</textarea>" in page
    )
    assert '<a href="#outcome-legend">This field is required.</a>' in page
    assert '<fieldset class="outcomes" aria-invalid="true"' in page
    assert not Decision.objects.filter(request=request_).exists()


def test_a_valid_decision_has_no_error_summary(client, world):
    detail, _ = _urls(submit(world))
    page = body(get_as(client, world.users.reviewer, detail))
    assert "decide-errors" not in page
    assert "autofocus" not in page
