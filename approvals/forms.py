"""Browser forms of approvals. They only parse and check the shape of the input;
the services check the business rules and say what is wrong field by field."""

from urllib.parse import urlsplit

from django import forms
from django.forms import formset_factory

from approvals.gates import INDEPENDENT_VALIDATION
from approvals.models import (
    ApprovalPolicy,
    Environment,
    Outcome,
    RequestKind,
    Severity,
    Strategy,
    ValidationOutcome,
    WebhookEndpoint,
)
from approvals.notifications import EVENTS
from approvals.prompt_gates import PROMPT_GATE_IDS
from approvals.services import strategy_errors
from approvals.webhooks import host_refusal
from kernel.roles import REVIEWER, RISK_OFFICER
from models_registry.checklist import REVIEW_HEADINGS

NEEDS_COMMENT = (Outcome.REJECT, Outcome.REQUEST_CHANGES)
FINDING_ROWS = 3


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=Outcome.choices, widget=forms.RadioSelect, label="Your decision"
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        help_text="Required to reject or to request changes.",
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("outcome") in NEEDS_COMMENT
            and not (cleaned.get("comment") or "").strip()
        ):
            self.add_error(
                "comment", "Say why: a rejection or a change request needs a comment."
            )
        return cleaned


class CancelForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        label="Reason (optional)",
    )


class EnvironmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.title


class DeploymentRequestForm(forms.Form):
    environment = EnvironmentChoiceField(
        queryset=Environment.objects.order_by("order"),
        to_field_name="name",
        empty_label=None,
    )
    kind = forms.ChoiceField(
        choices=[
            (RequestKind.DEPLOY, RequestKind.DEPLOY.label),
            (RequestKind.PROMOTE, RequestKind.PROMOTE.label),
        ],
        initial=RequestKind.DEPLOY,
    )
    strategy = forms.ChoiceField(choices=Strategy.choices, initial=Strategy.CANARY)
    traffic_percent = forms.IntegerField(
        label="Traffic %",
        min_value=1,
        max_value=100,
        required=False,
        help_text="Canary: 1 to 50 (default 10). A/B: 1 to 99 sent to this version "
        "(default 50). Shadow and full: 100.",
    )
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="What changes for the people this model decides about, and why "
        "now. Never paste credentials.",
    )

    def clean(self):
        cleaned = super().clean()
        kind, strategy = cleaned.get("kind"), cleaned.get("strategy")
        traffic = cleaned.get("traffic_percent")
        if kind and strategy and traffic is not None:
            # The service's own rules, so that every error shows at once.
            for field, problems in strategy_errors(kind, strategy, traffic).items():
                for problem in problems:
                    self.add_error(field, problem)
        return cleaned


class RollbackForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Recorded in the audit log as an emergency action.",
    )


class ValidationReportForm(forms.Form):
    outcome = forms.ChoiceField(choices=ValidationOutcome.choices)
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=10000
    )


class FindingForm(forms.Form):
    """One finding row; a row left entirely blank is ignored."""

    severity = forms.ChoiceField(choices=[("", "—"), *Severity.choices])
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000
    )
    owner = forms.CharField(
        max_length=150, help_text="Username of the person who resolves it."
    )
    due_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def finding(self) -> dict:
        data = self.cleaned_data
        return {
            "severity": data["severity"],
            "title": data["title"],
            "description": data.get("description", ""),
            "owner": data["owner"].strip(),
            "due_date": data.get("due_date"),
        }


FindingFormSet = formset_factory(
    FindingForm,
    extra=FINDING_ROWS,
    max_num=FINDING_ROWS,
    absolute_max=FINDING_ROWS,
    validate_max=True,
)


# --- Admin ---------------------------------------------------------------------------

GATE_ITEM_IDS = [
    *(item for _, _, items in REVIEW_HEADINGS for item in items),
    INDEPENDENT_VALIDATION,
]
APPROVING_ROLES = (REVIEWER, RISK_OFFICER)


class ApprovalPolicyAdminForm(forms.ModelForm):
    required_approvals = forms.IntegerField(min_value=1, max_value=10)
    llm_regression_tolerance = forms.FloatField(
        min_value=0,
        max_value=1,
        required=False,
        initial=0.02,
        help_text="Prompts: how much worse than the live version each declared "
        "metric may be (absolute) before the no-regression gate fails.",
    )
    approval_valid_days = forms.IntegerField(
        min_value=1, max_value=365, help_text="How long an approval stays valid."
    )

    class Meta:
        model = ApprovalPolicy
        fields = [
            "risk_class",
            "environment",
            "required_approvals",
            "required_roles",
            "gate_items",
            "requires_staged_rollout",
            "big_change_requires_ab",
            "approval_valid_days",
            "prompt_gate_items",
            "llm_regression_tolerance",
        ]
        help_texts = {
            "prompt_gate_items": "Prompt versions: a JSON list of prompt gate ids. "
            "Allowed: " + ", ".join(PROMPT_GATE_IDS) + ".",
            "required_roles": 'A JSON list, e.g. ["risk_officer"]. Allowed: '
            + ", ".join(APPROVING_ROLES)
            + ".",
            "gate_items": "A JSON list of gate ids. Allowed: "
            + ", ".join(GATE_ITEM_IDS)
            + ".",
        }

    def _string_list(self, field: str, allowed) -> list[str]:
        value = self.cleaned_data.get(field)
        if value in (None, ""):
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise forms.ValidationError("Give a JSON list of names.")
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise forms.ValidationError(
                f"Unknown: {', '.join(unknown)}. Allowed: {', '.join(allowed)}."
            )
        return list(dict.fromkeys(value))

    def clean_required_roles(self):
        return self._string_list("required_roles", APPROVING_ROLES)

    def clean_gate_items(self):
        return self._string_list("gate_items", GATE_ITEM_IDS)

    def _kept(self, field: str, value):
        """A prompt setting the form did not send stays as it was."""
        if field not in self.data:
            return getattr(self.instance, field)
        return value

    def clean_prompt_gate_items(self):
        if "prompt_gate_items" not in self.data:
            return list(self.instance.prompt_gate_items)
        return self._string_list("prompt_gate_items", PROMPT_GATE_IDS)

    def clean_llm_regression_tolerance(self):
        value = self._kept(
            "llm_regression_tolerance",
            self.cleaned_data.get("llm_regression_tolerance"),
        )
        return 0.02 if value is None else value

    def clean(self):
        cleaned = super().clean()
        roles = cleaned.get("required_roles") or []
        approvals = cleaned.get("required_approvals")
        if approvals is not None and len(roles) > approvals:
            self.add_error(
                "required_approvals",
                "Needs at least one approval per required role.",
            )
        return cleaned


class WebhookEndpointAdminForm(forms.ModelForm):
    """The secret is write-only: never shown again, kept when left blank."""

    url = forms.URLField(max_length=500, assume_scheme="https")
    secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        max_length=200,
        help_text="Shared secret for the HMAC-SHA256 signature. Leave blank to keep "
        "the current one; it is never shown again.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "events", "is_active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        host = urlsplit(url).hostname or ""
        if refusal := host_refusal(host):
            raise forms.ValidationError(f"Webhooks go to public addresses: {refusal}")
        return url

    def clean_secret(self):
        secret = self.cleaned_data.get("secret") or ""
        if not secret:
            if self.instance.pk is None:
                raise forms.ValidationError("A new endpoint needs a secret.")
            return self.instance.secret
        if len(secret) < 16:
            raise forms.ValidationError("Use at least 16 characters.")
        return secret

    def clean_events(self):
        events = self.cleaned_data.get("events")
        if events in (None, ""):
            return []
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise forms.ValidationError(
                "Give a JSON list of event names, or [] for every event."
            )
        unknown = [
            entry
            for entry in events
            if entry not in EVENTS
            and not (entry.endswith(".") and any(e.startswith(entry) for e in EVENTS))
        ]
        if unknown:
            raise forms.ValidationError(
                f"Unknown events: {', '.join(unknown)}. Known: {', '.join(EVENTS)} "
                "(or a prefix ending in a dot, such as deployment.)."
            )
        return events
