"""Browser forms of monitoring: they check the shape; the services the rules."""

from django import forms

from monitoring.models import AlertSeverity, AlertStatus, Check
from monitoring.selectors import DASHBOARD_DAYS

ANY = [("", "Any")]


class DashboardForm(forms.Form):
    """The dashboard's GET form: which period and which feature to show."""

    days = forms.TypedChoiceField(
        choices=[
            (days, f"{days} day{'s' if days > 1 else ''}") for days in DASHBOARD_DAYS
        ],
        coerce=int,
        required=False,
        label="Period",
    )
    feature = forms.ChoiceField(choices=(), required=False, label="Feature")

    def __init__(self, *args, features=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["feature"].choices = [(name, name) for name in features]


class StatisticsWindowForm(forms.Form):
    """Which checked window the statistics table shows (the period and feature
    ride along as hidden fields)."""

    days = forms.IntegerField(widget=forms.HiddenInput, required=False)
    feature = forms.CharField(widget=forms.HiddenInput, required=False)
    window = forms.TypedChoiceField(
        choices=(), coerce=int, required=False, label="Checked window"
    )

    def __init__(self, *args, windows=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["window"].choices = [
            (pk, f"{start:%Y-%m-%d %H:%M} UTC") for pk, start in windows
        ]


class AlertFilterForm(forms.Form):
    """The alert list's GET form; model and environment choices are those of
    the monitored versions the person may see."""

    status = forms.ChoiceField(choices=ANY + AlertStatus.choices, required=False)
    severity = forms.ChoiceField(choices=ANY + AlertSeverity.choices, required=False)
    check = forms.ChoiceField(
        choices=ANY + Check.choices, required=False, label="Check"
    )
    model = forms.ChoiceField(choices=(), required=False)
    environment = forms.ChoiceField(choices=(), required=False)
    opened_from = forms.DateField(
        required=False,
        label="Opened from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    opened_to = forms.DateField(
        required=False,
        label="Opened until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, models=(), environments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = ANY + list(models)
        self.fields["environment"].choices = ANY + list(environments)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("opened_from"), cleaned.get("opened_to")
        if start and end and end < start:
            self.add_error("opened_to", "Must not be before “Opened from”.")
        return cleaned

    def filters(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items() if value}


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=4000,
        label="Note (optional)",
        help_text="What you are looking into.",
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        label="What was done",
        help_text="Required: the fix, or why nothing needs doing.",
    )


class LabelForm(forms.Form):
    label = forms.CharField(max_length=200, label="True label")
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        label="Comment (optional)",
    )
