from datetime import UTC, datetime, time

from django import forms

from audit.selectors import AuditEventFilters
from kernel import labels

# A PostgreSQL bigint: larger values would fail in the database, not in the form.
MAX_SEQUENCE = 2**63 - 1

_DATE_FORMAT = "%Y-%m-%d"
_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")
_MOMENT_HELP = "UTC: YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS]."


def parse_utc_moment(text: str) -> tuple[datetime, bool]:
    """Parse a UTC date or date-time; return it and whether it was a bare date.

    Raises ValueError for anything else. A trailing ``Z`` is accepted; other
    offsets are not (the browser works in UTC, as the log does).
    """
    text = text.strip().removesuffix("Z").replace(" ", "T")
    try:
        return datetime.strptime(text, _DATE_FORMAT).replace(tzinfo=UTC), True
    except ValueError:
        pass
    for pattern in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC), False
        except ValueError:
            continue
    raise ValueError(text)


class AuditEventFilterForm(forms.Form):
    """Filters and keyset position of the audit browser (GET parameters)."""

    FILTER_FIELDS = (
        "actor",
        "action",
        "target_type",
        "target_id",
        "model",
        "date_from",
        "date_to",
    )

    actor = forms.CharField(
        required=False, max_length=300, help_text="Username, exactly as recorded."
    )
    action = forms.CharField(
        required=False,
        max_length=100,
        help_text="Exact, or a prefix ending in a dot such as “token.”.",
    )
    target_type = forms.CharField(
        required=False,
        max_length=100,
        label="Target type",
        help_text="For example auth.user.",
    )
    target_id = forms.CharField(required=False, max_length=100, label="Target id")
    model = forms.CharField(
        required=False,
        max_length=100,
        help_text="The registered model's slug.",
    )
    date_from = forms.CharField(
        required=False, max_length=32, label="From", help_text=_MOMENT_HELP
    )
    date_to = forms.CharField(
        required=False,
        max_length=32,
        label="To",
        help_text=_MOMENT_HELP + " A bare date includes the whole day.",
    )
    before = forms.IntegerField(required=False, min_value=1, max_value=MAX_SEQUENCE)
    after = forms.IntegerField(required=False, min_value=0, max_value=MAX_SEQUENCE)

    def _clean_moment(self, name: str, *, end_of_day: bool) -> datetime | None:
        text = self.cleaned_data.get(name, "")
        if not text:
            return None
        try:
            moment, is_date = parse_utc_moment(text)
        except ValueError:
            raise forms.ValidationError(
                "Not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)."
            ) from None
        if is_date and end_of_day:
            moment = datetime.combine(moment.date(), time.max, tzinfo=UTC)
        return moment

    def clean_date_from(self):
        return self._clean_moment("date_from", end_of_day=False)

    def clean_date_to(self):
        return self._clean_moment("date_to", end_of_day=True)

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("date_from"), cleaned.get("date_to")
        if since and until and since > until:
            self.add_error("date_to", "Must not be before “From”.")
        if cleaned.get("before") is not None and cleaned.get("after") is not None:
            raise forms.ValidationError("Give “before” or “after”, not both.")
        return cleaned

    def filters(self) -> AuditEventFilters:
        data = self.cleaned_data
        return AuditEventFilters(
            actor=data["actor"],
            action=data["action"],
            target_type=data["target_type"],
            target_id=data["target_id"],
            scope=data["model"],
            since=data["date_from"],
            until=data["date_to"],
        )

    def filter_query(self) -> dict[str, str]:
        """The filters as typed, for links that keep them (pagination, export)."""
        return {
            name: self.data[name].strip()
            for name in self.FILTER_FIELDS
            if self.data.get(name, "").strip()
        }


def _action_choices(actions: list[str]) -> list:
    """Each action, grouped under its prefix with an "every ..." choice first
    (the prefix filter, such as ``token.``)."""
    groups: dict[str, list[str]] = {}
    for action in actions:
        prefix, dot, _ = action.partition(".")
        groups.setdefault(prefix + dot if dot else "", []).append(action)
    choices = [("", "Any action")]
    for prefix, members in groups.items():
        options = [(action, labels.label("audit_action", action)) for action in members]
        if prefix:
            every = f"Every {labels.humanise(prefix.rstrip('.')).lower()} event"
            options.insert(0, (prefix, every))
        choices.append((labels.humanise(prefix.rstrip(".")) or "Other", options))
    return choices


def _choice_values(choices: list):
    for value, text in choices:
        if isinstance(text, list):
            yield from (member for member, _ in text)
        else:
            yield value


def _with_current(choices: list, current: str) -> list:
    """Keep a value that is not in the log (an old link) selectable."""
    if current and current not in set(_choice_values(choices)):
        return [*choices, (current, current)]
    return choices


class AuditEventBrowseForm(AuditEventFilterForm):
    """The browser's filters: the actions, target types and models of the log
    offered as choices, with people's labels. The values filter exactly as the
    API's free text does."""

    def __init__(self, data, *, values, **kwargs):
        super().__init__(data, **kwargs)
        options = {
            "action": _action_choices(values.actions),
            "target_type": [
                ("", "Any type"),
                *sorted(
                    (
                        (value, labels.target_type_label(value))
                        for value in values.target_types
                    ),
                    key=lambda pair: pair[1],
                ),
            ],
            "model": [("", "Any model"), *((slug, slug) for slug in values.scopes)],
        }
        for name, choices in options.items():
            field = self.fields[name]
            current = str(self.data.get(name, "")).strip()
            field.widget = forms.Select(choices=_with_current(choices, current))
            field.help_text = ""
        self.fields["target_id"].help_text = "The record's id, as in the list."


class CheckpointListForm(forms.Form):
    before = forms.IntegerField(required=False, min_value=1, max_value=MAX_SEQUENCE)


class CheckpointRangeForm(forms.Form):
    """Two checkpoints by sequence; ``from_sequence`` 0 is the chain's start."""

    from_sequence = forms.IntegerField(
        min_value=0,
        max_value=MAX_SEQUENCE,
        label="From checkpoint",
        help_text="Sequence of the first checkpoint; 0 for the start of the chain.",
    )
    to_sequence = forms.IntegerField(
        min_value=1,
        max_value=MAX_SEQUENCE,
        label="To checkpoint",
        help_text="Sequence of the second checkpoint.",
    )

    def __init__(self, *args, find_checkpoint, **kwargs):
        super().__init__(*args, **kwargs)
        self._find_checkpoint = find_checkpoint

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from_sequence"), cleaned.get("to_sequence")
        if start is None or end is None:
            return cleaned
        if start >= end:
            self.add_error("to_sequence", "Must be after the first checkpoint.")
            return cleaned
        if start and self._find_checkpoint(start) is None:
            self.add_error("from_sequence", f"There is no checkpoint at {start}.")
        if self._find_checkpoint(end) is None:
            self.add_error("to_sequence", f"There is no checkpoint at {end}.")
        return cleaned
