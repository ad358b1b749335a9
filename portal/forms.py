from django import forms

from portal.services import MAX_TOKEN_DAYS


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses this token, such as 'nightly training CI'."
    )
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        initial=90,
        label="Expires in (days)",
        help_text=f"1 to {MAX_TOKEN_DAYS}; leave empty for a token that never expires.",
    )
