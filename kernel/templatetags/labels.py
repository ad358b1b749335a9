"""``{% load labels %}``: ``{{ model.risk_class|label:"risk_class" }}``,
``{{ event.target_type|target_type_label }}``, ``{{ when|moment }}`` and
``{{ when|moment_seconds }}`` (see ``kernel.labels``)."""

from django import template

from kernel import labels

register = template.Library()


@register.filter(name="label")
def label_filter(value, vocabulary: str) -> str:
    return labels.label(vocabulary, value)


@register.filter
def target_type_label(value) -> str:
    return labels.target_type_label(value or "")


@register.filter
def moment(value) -> str:
    return labels.moment(value)


@register.filter
def moment_seconds(value) -> str:
    return labels.moment(value, seconds=True)
