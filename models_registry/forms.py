"""Browser forms of the registry. They only parse; the services decide."""

from django import forms

from models_registry.models import (
    PROMPT_CARD_LABELS,
    DecisionDomain,
    RiskClass,
    VersionStatus,
    card_fields,
)

CARD_LABELS = {
    "intended_use": "Intended use",
    "out_of_scope_uses": "Out-of-scope uses",
    "users": "Users",
    "limitations": "Limitations",
    "ethical_considerations": "Ethical considerations",
    "training_data_summary": "Training data",
    "evaluation_data_summary": "Evaluation data",
    "caveats": "Caveats",
    "recommendations": "Recommendations",
}

CARD_HELP = {
    "intended_use": "What the model is for, and the decisions it informs.",
    "out_of_scope_uses": "Uses the model must not be put to.",
    "users": "Who uses its output.",
    "limitations": "Where it is known to do badly.",
    "ethical_considerations": "Risks to people, and how they are watched.",
    "training_data_summary": "What it learnt from; the snapshots are linked "
    "on the version page.",
    "evaluation_data_summary": "What it was tested on; the metrics are shown "
    "from the evaluations, not typed here.",
    "caveats": "Anything a reviewer should know.",
    "recommendations": "How to use the output well.",
}

PROMPT_CARD_HELP = {
    "intended_use": "What the prompt is for: the product, the users, the task.",
    "out_of_scope_uses": "Requests the prompt must not serve.",
    "limitations": "Where it is known to fail: hallucinations, languages, "
    "inputs that derail it.",
    "ethical_considerations": "Guardrails, refusals, red-team findings and how "
    "harmful output is caught.",
}


def card_labels(kind: str) -> tuple[dict[str, str], dict[str, str]]:
    """The card's labels and help texts for an entry of this kind."""
    if kind in ("prompt", "llm_app"):
        return PROMPT_CARD_LABELS, PROMPT_CARD_HELP
    return CARD_LABELS, CARD_HELP


_ANY = [("", "Any")]


class ModelFilterForm(forms.Form):
    """The GET filters of the model list. Team choices are the visible teams."""

    kind = forms.ChoiceField(
        required=False,
        label="Show",
        choices=[
            ("", "Models"),
            ("prompt", "Prompts"),
            ("llm_app", "LLM applications"),
            ("all", "Everything"),
        ],
    )
    search = forms.CharField(
        required=False,
        max_length=100,
        help_text="Part of the name or title.",
    )
    risk_class = forms.ChoiceField(
        required=False, label="Risk class", choices=_ANY + RiskClass.choices
    )
    domain = forms.ChoiceField(
        required=False, label="Decision domain", choices=_ANY + DecisionDomain.choices
    )
    team = forms.ChoiceField(required=False, choices=_ANY)
    status = forms.ChoiceField(
        required=False,
        label="Has a version that is",
        choices=_ANY + VersionStatus.choices,
    )

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = _ANY + [(team.slug, team.name) for team in teams]

    def filters(self) -> dict[str, str]:
        return {
            name: value.strip()
            for name, value in self.cleaned_data.items()
            if value and value.strip()
        }


class RiskClassChangeForm(forms.Form):
    risk_class = forms.ChoiceField(label="New risk class", choices=RiskClass.choices)
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the audit log with the change.",
        error_messages={"required": "Say why the risk class changes."},
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why the risk class changes.")
        return reason


class ModelCardForm(forms.Form):
    """The sections of a model card (nine; a prompt card's four), and the
    revision the editor started from, so that an edit made meanwhile by someone
    else is not overwritten."""

    base_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, kind: str = "model", **kwargs):
        super().__init__(*args, **kwargs)
        self.names = card_fields(kind)
        labels, helps = card_labels(kind)
        for name in self.names:
            self.fields[name] = forms.CharField(
                required=False,
                max_length=20_000,
                label=labels[name],
                help_text=helps[name],
                widget=forms.Textarea(attrs={"rows": 4}),
            )

    def card_fields(self):
        return [self[name] for name in self.names]

    def sections(self) -> dict[str, str]:
        # Textarea submissions carry \r\n; store the text as people typed it.
        return {
            name: self.cleaned_data[name].replace("\r\n", "\n").strip()
            for name in self.names
        }
