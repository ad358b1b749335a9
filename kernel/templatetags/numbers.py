"""``{% load numbers %}``: ``{{ value|number }}``, ``|signed``, ``|percent``."""

from django import template

from kernel import numbers

register = template.Library()

register.filter("number", numbers.number)
register.filter("signed", numbers.signed)


@register.filter
def percent(value, digits: int = 1) -> str:
    return numbers.percent(value, digits=int(digits))
