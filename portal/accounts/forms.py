from django import forms

from kernel.models import Team
from portal.accounts import access


class ServiceAccountCreateForm(forms.Form):
    name = forms.CharField(
        max_length=60,
        help_text="Lowercase letters, digits and hyphens, such as 'nightly-ci'; "
        "the account is called svc-<name>.",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        empty_label="Choose a team",
        help_text="The team it works for: it sees and changes that team's models.",
    )
    description = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What it is for and who runs it.",
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = access.managed_teams(actor).order_by("name")
