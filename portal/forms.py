from django import forms

from kernel.scopes import PEOPLE_ONLY_SCOPES, SCOPES
from portal.services import DEFAULT_TOKEN_DAYS

EXPIRY_CHOICES = [
    (7, "7 days"),
    (30, "30 days"),
    (90, "90 days"),
    (180, "180 days"),
    (365, "1 year"),
]


class ApiTokenCreateForm(forms.Form):
    """A token's name, scopes and expiry; a service account's token is offered
    no approving scope."""

    name = forms.CharField(
        max_length=100, help_text="What uses this token, such as 'nightly training CI'."
    )
    scopes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        help_text="The token calls only what these cover, and never more than "
        "its owner may do.",
    )
    expires_in_days = forms.TypedChoiceField(
        choices=EXPIRY_CHOICES,
        coerce=int,
        initial=DEFAULT_TOKEN_DAYS,
        label="Expires in",
    )

    def __init__(self, *args, service_account: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [
            (scope.name, scope.label)
            for scope in SCOPES
            if not (service_account and scope.name in PEOPLE_ONLY_SCOPES)
        ]
