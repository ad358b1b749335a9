from datetime import UTC, datetime

import pytest

from audit.forms import AuditEventFilterForm


def test_a_bare_to_date_includes_the_whole_day_in_utc():
    form = AuditEventFilterForm({"date_from": "2026-03-02", "date_to": "2026-03-02"})
    assert form.is_valid(), form.errors
    filters = form.filters()
    assert filters.since == datetime(2026, 3, 2, tzinfo=UTC)
    assert filters.until == datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=UTC)


def test_the_last_day_of_the_calendar_does_not_overflow():
    form = AuditEventFilterForm({"date_to": "9999-12-31"})
    assert form.is_valid(), form.errors
    last = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert form.filters().until == last


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02T10:11", datetime(2026, 3, 2, 10, 11, tzinfo=UTC)),
        ("2026-03-02 10:11:12", datetime(2026, 3, 2, 10, 11, 12, tzinfo=UTC)),
        ("2026-03-02T10:11:12Z", datetime(2026, 3, 2, 10, 11, 12, tzinfo=UTC)),
        (
            "2026-03-02T10:11:12.000042",
            datetime(2026, 3, 2, 10, 11, 12, 42, tzinfo=UTC),
        ),
    ],
)
def test_date_times_are_read_as_utc(text, expected):
    form = AuditEventFilterForm({"date_from": text, "date_to": text})
    assert form.is_valid(), form.errors
    assert (form.filters().since, form.filters().until) == (expected, expected)


@pytest.mark.parametrize(
    "text", ["2026-03-02T10:11+02:00", "02/03/2026", "2026-13-01", "now", "2026"]
)
def test_other_date_formats_are_refused(text):
    form = AuditEventFilterForm({"date_from": text})
    assert not form.is_valid()
    assert form.errors["date_from"] == [
        "Not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)."
    ]


def test_filters_record_only_what_was_set():
    form = AuditEventFilterForm({"model": "credit-scoring", "action": "model."})
    assert form.is_valid()
    assert form.filters().as_payload() == {
        "action": "model.",
        "model": "credit-scoring",
    }
    assert form.filter_query() == {"action": "model.", "model": "credit-scoring"}
