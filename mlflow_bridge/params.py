"""The parameters of an MLflow request: the query string of a GET, else the
JSON body (the kernel's checked parser: nesting, NUL and surrogates refused),
read as MLflow reads them, with MLflow's INVALID_PARAMETER_VALUE for bad ones.

Every text a write reads (each parameter, each tag's key and value) is scanned
for credentials as it is read (``kernel.secrets``; a parameter is skipped only
where ``kernel.secrets.UNSCANNED`` lists ``mlflow.<name>``), so no write can
store one, whichever parameter it reads."""

import base64
import binascii
import json

from django.http import HttpRequest
from rest_framework.exceptions import ParseError

from kernel.guards import MAX_OFFSET, is_digits, loads_checked, unstorable_text_problem
from kernel.secrets import UNSCANNED, secret_errors
from mlflow_bridge import errors
from mlflow_bridge.prompts import TEXT_TAG
from models_registry.prompt_text import without_variables


class Params:
    """The request's parameters: the query string of a GET, else the JSON body."""

    def __init__(self, request: HttpRequest):
        # Reads (GET) store nothing; every other method's texts are scanned.
        self.scans = request.method != "GET"
        if request.method == "GET" or not request.body:
            self.values = {key: request.GET.getlist(key) for key in request.GET}
            self.from_query = True
            for key, values in self.values.items():
                for text in (key, *values):
                    problem = unstorable_text_problem(text)
                    if problem:
                        raise errors.invalid(f"Invalid parameter '{key}': {problem}")
            return
        try:
            body = loads_checked(request.body)
        except ParseError as error:
            raise errors.invalid(
                f"Malformed request body: it must be JSON. {error.detail}"
            ) from error
        if not isinstance(body, dict):
            raise errors.invalid("Malformed request body: it must be a JSON object.")
        self.values = body
        self.from_query = False

    def _scanned(self, name: str, value):
        """``value`` (a text, a list of texts, or a tag), or INVALID_PARAMETER_VALUE
        when it holds credentials."""
        scanned = self.scans and f"mlflow.{name}" not in UNSCANNED
        if scanned and (problems := secret_errors(value)):
            raise errors.invalid(f"Invalid value for parameter '{name}': {problems[0]}")
        return value

    def _raw(self, name: str):
        value = self.values.get(name)
        if self.from_query and isinstance(value, list):
            return value[-1] if value else None
        return value

    def text(self, name: str, *, required: bool = False) -> str:
        value = self._raw(name)
        if value is None or (required and value == ""):
            if required:
                raise errors.invalid(
                    f"Missing value for required parameter '{name}'. See the API "
                    "docs for more information about request parameters."
                )
            return ""
        if not isinstance(value, str):
            raise errors.invalid(
                f"Invalid value {value!r} for parameter '{name}' supplied: it must "
                f"be a string, not {type(value).__name__}."
            )
        return self._scanned(name, value)

    def integer(self, name: str, *, default: int) -> int:
        value = self._raw(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError) as error:
            raise errors.invalid(
                f"Invalid value {value!r} for parameter '{name}': it must be an "
                "integer."
            ) from error

    def version(self) -> int:
        raw = self._raw("version")
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        value = raw if isinstance(raw, str) else self.text("version", required=True)
        if not value:
            self.text("version", required=True)
        if not is_digits(value) or int(value) < 1:
            raise errors.invalid(
                f"Parameter 'version' must be an integer, got '{value}'."
            )
        return int(value)

    def texts(self, name: str) -> list[str]:
        value = self.values.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise errors.invalid(f"Parameter '{name}' must be a list of strings.")
        return self._scanned(name, value)

    def tags(self) -> dict[str, str]:
        value = self.values.get("tags")
        if value is None:
            return {}
        if not isinstance(value, list):
            raise errors.invalid("Parameter 'tags' must be a list of {key, value}.")
        tags = {}
        for item in value:
            if not isinstance(item, dict) or not isinstance(item.get("key"), str):
                raise errors.invalid("Each tag needs a string 'key'.")
            tag_value = item.get("value", "")
            if not isinstance(tag_value, str):
                raise errors.invalid(
                    f"The value of tag '{item['key']}' must be a string."
                )
            # A prompt's template is scanned without its {{variables}}: one
            # that asks for {{password}} holds none.
            scanned = (
                without_variables(tag_value) if item["key"] == TEXT_TAG else tag_value
            )
            self._scanned("tags", {item["key"]: scanned})
            tags[item["key"]] = tag_value
        return tags

    def page(self, *, default: int, maximum: int, minimum: int = 1) -> tuple[int, int]:
        limit = self.integer("max_results", default=default)
        if limit < minimum or limit > maximum:
            raise errors.invalid(
                "Invalid value for request parameter max_results. It must be at "
                f"least {minimum} and at most {maximum}, but got value {limit}"
            )
        token = self.text("page_token")
        if not token:
            return 0, limit
        try:
            offset = loads_checked(base64.b64decode(token, validate=True))["offset"]
        except (binascii.Error, ParseError, ValueError, TypeError, KeyError) as error:
            raise errors.invalid("Invalid page token.") from error
        if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
            raise errors.invalid("Invalid page token.")
        return offset, limit


def page_token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()
