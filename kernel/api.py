"""The shared API layer: one error shape for every answer (``{"code", "message",
"fields"}``), the API base view (parse → call → render), input parsing with
flat field errors, pagination and the schema's error helpers."""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import exception_handler as drf_exception_handler

from kernel.errors import InvalidInput, PermissionDenied, ServiceError
from kernel.guards import CheckedJSONParser, nul_fields
from kernel.roles import reads_only, writes_nothing
from kernel.secrets import secret_fields


def _flatten(detail) -> list[str]:
    if isinstance(detail, list):
        return [str(item) for item in detail]
    if isinstance(detail, dict):
        return [f"{key}: {value}" for key, value in detail.items()]
    return [str(detail)]


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        body = {"code": exc.code, "message": exc.message, "fields": exc.fields}
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = (
            exc.detail
            if isinstance(exc.detail, dict)
            else {"non_field_errors": exc.detail}
        )
        fields = {key: _flatten(value) for key, value in detail.items()}
        response.data = {
            "code": "invalid",
            "message": "The request has invalid fields.",
            "fields": fields,
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        response.data = {
            "code": getattr(detail, "code", None)
            or getattr(exc, "default_code", "error"),
            "message": str(detail),
            "fields": {},
        }
    return response


# --- The API base: parse input, call a service or selector, render output --------


class ErrorOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField())
    )


class LenientJSONParser(CheckedJSONParser):
    """JSON that may carry NaN and Infinity.

    Python's json module reads them; the input serializers then answer with a
    field error that names the field, instead of a bare "JSON parse error".
    """

    strict = False


def flatten_errors(errors: Any) -> dict[str, list[str]]:
    """Turn DRF's nested errors into ``{"artifact.sha256": [...]}``, the same flat
    field names the services use, with ``[i]`` for list positions."""
    fields: dict[str, list[str]] = {}

    def add(where: str, message: Any) -> None:
        fields.setdefault(where or "non_field_errors", []).append(str(message))

    def visit(detail: Any, where: str) -> None:
        if isinstance(detail, dict):
            for key, child in detail.items():
                if isinstance(key, int):
                    name = f"{where}[{key}]"
                elif key == "non_field_errors":
                    name = where
                else:
                    name = f"{where}.{key}" if where else str(key)
                visit(child, name)
        elif isinstance(detail, list):
            if all(isinstance(item, str) for item in detail):
                for item in detail:
                    add(where, item)
            else:
                for index, child in enumerate(detail):
                    if child:
                        visit(child, f"{where}[{index}]")
        else:
            add(where, detail)

    visit(errors, "")
    return fields


def parse_data(
    serializer_class: type[Serializer],
    data: Any,
    *,
    message: str = "The request has invalid fields.",
    error: type[ServiceError] = InvalidInput,
    partial: bool = False,
    scan_secrets: bool = False,
) -> dict[str, Any]:
    """``data`` validated by the input serializer, or ``error`` (400) with every
    field error at once. The serializer only validates; it never saves. With
    ``scan_secrets`` (every write's body), a field that holds credentials is
    refused too (``kernel.secrets``)."""
    serializer = serializer_class(data=data, partial=partial)
    is_valid = serializer.is_valid()
    fields = {} if is_valid else flatten_errors(serializer.errors)
    if scan_secrets:
        for where, problems in secret_fields(serializer, data).items():
            fields.setdefault(where, []).extend(problems)
    if fields:
        raise error(message, fields=fields)
    validated = dict(serializer.validated_data)
    # PostgreSQL refuses NUL in text: what a serializer lets through (JSON and
    # dict fields, keys) is refused here, named like the serializers' errors.
    problems = nul_fields(validated)
    if problems:
        raise error(message, fields=problems)
    return validated


READ_ONLY_MESSAGE = "You may not change anything here."


# The base of every API view: parse → call a service or selector → render.
# An app sets ``invalid_error`` (its 400 error class) and, where its wording
# differs, ``body_message`` / ``query_message``. A comment, not a docstring:
# drf-spectacular publishes the first docstring of a view's classes (up to
# DRF's own) as the description of every operation that has none.
#
# Permission first: nobody learns what is wrong with a body they may not send.
# A write (POST, PUT, PATCH, DELETE) from someone whose roles only read
# (``kernel.roles.reads_only``: auditors) is refused with 403 before its body
# is read; so is a write to a collection (no object in the path) from someone
# who may change nothing anywhere (``writes_nothing``). Where an object is in
# the path, a view whose parse would come before its own rule overrides
# ``check_write`` (calling super) to resolve the object (404 for one the caller
# may not see) and ask its rule (403) first.
class ApiView(GenericAPIView):
    invalid_error: type[ServiceError] = InvalidInput
    body_message = "The request has invalid fields."
    query_message = "The query is invalid."

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # A method the view does not take answers 405, as DRF's dispatch does.
        if request.method not in SAFE_METHODS and hasattr(self, request.method.lower()):
            self.check_write(request, **kwargs)

    def check_write(self, request, **kwargs) -> None:
        """Raise 403 (or 404 for an object the caller may not see) before a
        write's body is read."""
        if reads_only(request.user) or (not kwargs and writes_nothing(request.user)):
            raise PermissionDenied(READ_ONLY_MESSAGE)

    def parse_body(
        self,
        serializer_class: type[Serializer],
        *,
        message: str | None = None,
        partial: bool = False,
    ) -> dict[str, Any]:
        return parse_data(
            serializer_class,
            self.request.data,
            message=message or self.body_message,
            error=self.invalid_error,
            partial=partial,
            scan_secrets=True,
        )

    def parse_query(
        self, serializer_class: type[Serializer], *, message: str | None = None
    ) -> dict[str, Any]:
        return parse_data(
            serializer_class,
            self.request.query_params,
            message=message or self.query_message,
            error=self.invalid_error,
        )

    def paginated(self, items, serializer_class, **context):
        """One page of ``items`` (a selector's queryset, or a list)."""
        page = self.paginate_queryset(items)
        data = serializer_class(page, many=True, context=context).data
        return self.get_paginated_response(data)


# --- Schema helpers ---------------------------------------------------------------


def error_response(description: str) -> OpenApiResponse:
    """A documented error answer: ``{"code", "message", "fields"}``."""
    return OpenApiResponse(ErrorOutput, description=description)


def error_example(name: str, status: int, body: dict[str, Any]) -> OpenApiExample:
    return OpenApiExample(
        name, value=body, response_only=True, status_codes=[str(status)]
    )


def not_found_example(code: str, message: str) -> OpenApiExample:
    return error_example(
        "Unknown or invisible", 404, {"code": code, "message": message, "fields": {}}
    )
