"""Strict fields of the registry API: text is text, numbers are finite numbers,
JSON holds no NaN/Infinity."""

import math
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1


class TextField(serializers.CharField):
    """Text that must arrive as a JSON string (DRF would also take numbers)."""

    default_error_messages = {"invalid": "Must be text."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class WholeNumberField(serializers.IntegerField):
    """A JSON integer: no strings, booleans or fractions."""

    default_error_messages = {"invalid": "Must be a whole number."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", -BIGINT_MAX)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return data


def _non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    return False


@extend_schema_field(OpenApiTypes.NUMBER)
class FiniteNumberField(serializers.Field):
    """A JSON number that is finite: NaN, Infinity and text are field errors."""

    default_error_messages = {"invalid": "Must be a finite number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        try:
            is_finite = math.isfinite(data)
        except OverflowError:  # an integer beyond any float
            is_finite = False
        if not is_finite:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class StrictJSONField(serializers.JSONField):
    """Free-form JSON of one container type, with finite numbers only.

    The JSON parser of this API accepts NaN and Infinity so that they come back
    as a field error here (naming where they are) rather than as an unparseable
    body; PostgreSQL could not store them anyway.
    """

    default_error_messages = {
        "type": "Must be {kind}.",
        "non_finite": "{where} must be a finite number, not {value}.",
        "null_character": "{where} contains a null character.",
    }

    def __init__(self, *, kind: type | None = None, **kwargs):
        self.kind = kind
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if self.kind is not None and not isinstance(data, self.kind):
            self.fail("type", kind={list: "a list", dict: "an object"}[self.kind])
        # Before DRF's own check, which calls any NaN merely "not valid JSON".
        self._check(data, "")
        return super().to_internal_value(data)

    def _check(self, value: Any, where: str) -> None:
        label = where or "The value"
        if _non_finite(value):
            self.fail("non_finite", where=label, value=value)
        if isinstance(value, str) and "\x00" in value:
            self.fail("null_character", where=label)
        if isinstance(value, dict):
            for key, child in value.items():
                if "\x00" in str(key):
                    self.fail("null_character", where=label)
                self._check(child, f"{where}.{key}" if where else str(key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                self._check(child, f"{where}[{index}]" if where else f"[{index}]")


class MetricsField(serializers.DictField):
    """An object of metric names to finite numbers."""

    child = FiniteNumberField()
    default_error_messages = {"not_a_dict": "Must be an object of names to numbers."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        for name in value:
            if "\x00" in name:
                raise serializers.ValidationError(
                    "Metric names cannot contain null characters."
                )
        return value


class TagsField(serializers.DictField):
    """An object of text keys to text values."""

    child = TextField(allow_blank=True, max_length=500)
    default_error_messages = {"not_a_dict": "Must be an object of text to text."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        for key in value:
            if "\x00" in key or len(key) > 200:
                raise serializers.ValidationError(
                    f"Tag name “{key[:40]}” must be text of at most 200 characters."
                )
        return value
