from django import forms

from portal.models import ReportExport
from portal.reports.render import FORMATS


class ReportFormatForm(forms.Form):
    """``?format=`` of a report page; empty means HTML on screen."""

    format = forms.ChoiceField(
        choices=[(name, name) for name in FORMATS], required=False
    )

    def clean_format(self) -> str:
        return self.cleaned_data["format"] or "html"


class ReportExportForm(forms.Form):
    """Start a background export of a large report."""

    format = forms.ChoiceField(choices=ReportExport.Format.choices)
    version = forms.IntegerField(
        min_value=1,
        required=False,
        help_text="Empty for the whole model's report.",
    )
