"""``{% load numbers %}``: ``{{ value|number }}``, ``|signed``, ``|percent``,
``|money`` (US dollars)."""

from django import template

from kernel import numbers

register = template.Library()

register.filter("number", numbers.number)
register.filter("signed", numbers.signed)
register.filter("money", numbers.money)


@register.filter
def percent(value, digits: int = 1) -> str:
    return numbers.percent(value, digits=int(digits))
