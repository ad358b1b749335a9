"""Limits on what a request may carry, written once for every API route.

- JSON bodies: nesting at most ``MAX_JSON_DEPTH`` deep and no lone UTF-16
  surrogates in any key or text (UTF-8 cannot encode them, so they could not
  even be echoed in an error); either answers 400 naming where it was found.
- Pagination: ``limit`` from 1 to ``MAX_PAGE_SIZE``, ``offset`` from 0 to
  ``MAX_OFFSET``; anything else answers 400 (never clamped in silence, never a
  database overflow).
- ``OPTIONS`` describes the route (name, what it renders and parses) without
  building serializers, so it never fails on a view that has none.
- API query strings with NUL characters answer 400 before any view runs; NUL
  in a JSON body is a field error from the input serializers.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.metadata import SimpleMetadata
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 64
MAX_PAGE_SIZE = 1000
MAX_OFFSET = 2**31 - 1
NUL_MESSAGE = "Null characters are not allowed."

# NUL, and the UTF-16 surrogate range, which no valid text contains alone.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts "²" and "٣", which
    ``int()`` refuses or reads as another number."""
    return text.isascii() and text.isdigit()


def unstorable_text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None when it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "NUL characters are not allowed."
    return "Text must be valid Unicode (it contains a lone surrogate)."


def _no_nul(text: str) -> str:
    return text.replace("\x00", "")


def nul_fields(data: Any) -> dict[str, list[str]]:
    """Field errors for every text or key with a NUL in validated input, named
    as ``kernel.api.flatten_errors`` names them (``schema[0].name``)."""
    fields: dict[str, list[str]] = {}
    stack: list[tuple[Any, list[Any]]] = [(data, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            fields.setdefault(_describe(path), []).append(NUL_MESSAGE)
        elif isinstance(value, dict):
            for key, child in value.items():
                if isinstance(key, str) and "\x00" in key:
                    fields.setdefault(_describe(path), []).append(NUL_MESSAGE)
                else:
                    stack.append((child, [*path, key]))
        elif isinstance(value, list | tuple):
            stack.extend((child, [*path, index]) for index, child in enumerate(value))
    return dict(sorted(fields.items()))


def _describe(path: list[Any]) -> str:
    where = ""
    for step in path:
        where += (
            f"[{step}]" if isinstance(step, int) else (f".{step}" if where else step)
        )
    return where or "body"


def check_json_value(
    data: Any, *, max_depth: int = MAX_JSON_DEPTH, refuse_nul: bool = True
) -> None:
    """Raise ParseError when ``data`` nests deeper than ``max_depth`` or holds a
    key or text that cannot be stored (with ``refuse_nul=False``, NUL is left to
    the input serializers, which name the field). Iterative: no recursion."""
    stack: list[tuple[Any, list[Any]]] = [(data, [])]
    while stack:
        value, path = stack.pop()
        if len(path) > max_depth:
            raise exceptions.ParseError(
                f"JSON nested deeper than {max_depth} levels at {_describe(path)}."
            )
        if isinstance(value, str):
            problem = unstorable_text_problem(value if refuse_nul else _no_nul(value))
            if problem:
                raise exceptions.ParseError(f"{_describe(path)}: {problem}")
        elif isinstance(value, dict):
            for key, child in value.items():
                problem = unstorable_text_problem(key if refuse_nul else _no_nul(key))
                if problem:
                    # The key itself is not echoed: it is what cannot be rendered.
                    raise exceptions.ParseError(
                        f"A key in {_describe(path)}: {problem}"
                    )
                stack.append((child, [*path, key]))
        elif isinstance(value, list):
            stack.extend((child, [*path, index]) for index, child in enumerate(value))


# The escapes that could spell NUL or a surrogate (JSON carries neither raw).
_RISKY_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
# Each structural character's step in nesting depth (commas step 0).
_STEPS = np.zeros(256, dtype=np.int8)
_STEPS[[ord("["), ord("{")]] = 1
_STEPS[[ord("]"), ord("}")]] = -1
_STRUCTURAL = np.zeros(256, dtype=bool)
_STRUCTURAL[[ord(c) for c in "[]{},"]] = True
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_CHUNK_BYTES = 4 * 2**20


@dataclass
class JsonShape:
    """What a JSON text's structure says before it is parsed: how deep it nests
    and, at one depth, how many objects and arrays open and commas separate."""

    max_depth: int = 0
    objects: int = 0
    arrays: int = 0
    commas: int = 0


def _no_constant(name: str):
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


def json_shape(raw: bytes, *, at_depth: int = 0) -> JsonShape:
    """Scan a JSON text's brackets and commas outside strings, in 4 MiB chunks:
    linear, vectorised, no recursion, and about 40 MiB of memory whatever the
    size of the text. Malformed JSON gives some shape; the parser refuses it."""
    shape = JsonShape()
    depth, inside, escaping = 0, 0, False
    view = memoryview(raw)
    for start in range(0, len(raw), _CHUNK_BYTES):
        text = np.frombuffer(view[start : start + _CHUNK_BYTES], dtype=np.uint8)
        quotes = np.flatnonzero(text == _QUOTE)
        if escaping and quotes.size and quotes[0] == 0:
            quotes = quotes[1:]
        backslashes = np.flatnonzero(text == _BACKSLASH)
        if backslashes.size:
            # A quote is escaped after an odd run of backslashes.
            quotes = quotes[~_escaped(quotes, backslashes, carried=escaping)]
            run_end = len(text) - 1
            run = _run_length_ending_at(backslashes, run_end)
            escaping = bool(run % 2) if run < len(text) else escaping ^ bool(run % 2)
        else:
            escaping = False
        toggles = np.zeros(len(text), dtype=np.int8)
        toggles[quotes] = 1
        parity = (np.cumsum(toggles, dtype=np.int32) + inside) & 1
        chars = text[_STRUCTURAL[text] & (parity == 0)]
        inside = int(parity[-1]) if len(parity) else inside
        if not chars.size:
            continue
        depths = np.cumsum(_STEPS[chars], dtype=np.int32) + depth
        depth = int(depths[-1])
        shape.max_depth = max(shape.max_depth, int(depths.max()))
        if at_depth:
            here = depths == at_depth
            shape.objects += int(np.count_nonzero(here & (chars == ord("{"))))
            shape.arrays += int(np.count_nonzero(here & (chars == ord("["))))
            shape.commas += int(np.count_nonzero(here & (chars == ord(","))))
    return shape


def _run_length_ending_at(backslashes: np.ndarray, end: int) -> int:
    """How many consecutive backslashes end at position ``end``."""
    if not backslashes.size or backslashes[-1] != end:
        return 0
    gaps = np.flatnonzero(np.diff(backslashes) != 1)
    first = backslashes[gaps[-1] + 1] if gaps.size else backslashes[0]
    return int(end - first + 1)


def _escaped(quotes: np.ndarray, backslashes: np.ndarray, *, carried: bool):
    """For each quote, whether an odd run of backslashes precedes it."""
    run_starts = np.concatenate(([0], np.flatnonzero(np.diff(backslashes) != 1) + 1))
    starts = backslashes[run_starts]
    ends = np.append(backslashes[run_starts[1:] - 1], backslashes[-1])
    lengths = ends - starts + 1
    # The run (if any) that ends right before each quote.
    which = np.searchsorted(ends, quotes - 1)
    which = np.minimum(which, len(ends) - 1)
    ends_before = ends[which] == quotes - 1
    run = np.where(ends_before, lengths[which], 0)
    # A run at the very start of the chunk continues the previous chunk's run.
    run = run + np.where(ends_before & (starts[which] == 0) & carried, 1, 0)
    return run % 2 == 1


def nesting_depth(raw: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside
    strings do not count)."""
    return json_shape(raw).max_depth


def loads_checked(
    raw: str | bytes,
    *,
    strict: bool = True,
    max_depth: int = MAX_JSON_DEPTH,
    refuse_nul: bool = True,
) -> Any:
    """``json.loads`` with the limits above; every refusal is a ParseError (400).

    Nesting is measured before parsing; texts are only walked when the body
    holds an escape that could spell NUL or a surrogate (JSON cannot carry
    either raw), so large clean bodies cost one regular-expression pass.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if nesting_depth(raw) > max_depth:
        raise exceptions.ParseError(f"JSON nested deeper than {max_depth} levels.")
    try:
        data = json.loads(raw, parse_constant=None if not strict else _no_constant)
    except RecursionError as error:  # pragma: no cover - the depth check is first
        raise exceptions.ParseError("JSON nested too deeply.") from error
    except (ValueError, UnicodeDecodeError) as error:
        raise exceptions.ParseError(f"JSON parse error - {error}") from error
    if _RISKY_ESCAPE.search(raw):
        check_json_value(data, max_depth=max_depth, refuse_nul=refuse_nul)
    return data


class CheckedJSONParser(JSONParser):
    """DRF's JSON parser with the nesting and surrogate limits. NUL passes the
    parser: the input serializers (``kernel.api.parse_data``) refuse it with a
    field error that names where it was."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        return loads_checked(body, strict=self.strict, refuse_nul=False)


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """``limit``/``offset`` paging whose bounds answer 400 when exceeded."""

    max_limit = MAX_PAGE_SIZE

    def _whole_number(self, request, name: str, low: int, high: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return None
        if not is_digits(raw) or not low <= int(raw) <= high:
            raise exceptions.ValidationError(
                {name: [f"Must be a whole number from {low} to {high:,}."]}
            )
        return int(raw)

    def get_limit(self, request):
        limit = self._whole_number(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request):
        offset = self._whole_number(request, self.offset_query_param, 0, MAX_OFFSET)
        return offset or 0

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


class RouteMetadata(SimpleMetadata):
    """What ``OPTIONS`` answers: the route's name and description, what it
    renders and parses. Field descriptions live in the OpenAPI schema."""

    def determine_metadata(self, request, view):
        metadata = super().determine_metadata(request, view)
        metadata.pop("actions", None)
        return metadata

    def determine_actions(self, request, view):  # pragma: no cover - not called
        return {}


class RefuseUnstorableQueryMiddleware:
    """Answer 400 to an API request whose query string carries NUL characters,
    before any view or filter sees it (PostgreSQL refuses NUL in text). Pages
    refuse it in their forms, as a form error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(api_prefixes()) or request.path.startswith(
            own_checks_prefixes()
        ):
            return self.get_response(request)
        fields: dict[str, list[str]] = {}
        for key in request.GET:
            if "\x00" in key or any("\x00" in v for v in request.GET.getlist(key)):
                fields[key.replace("\x00", "\\0")] = [NUL_MESSAGE]
        if fields:
            return JsonResponse(
                {
                    "code": "invalid",
                    "message": "The query is invalid.",
                    "fields": fields,
                },
                status=400,
            )
        return self.get_response(request)


def api_prefixes() -> tuple[str, ...]:
    """Paths whose callers are programs (JSON answers, never HTML pages)."""
    return tuple(getattr(settings, "API_PATH_PREFIXES", ("/api/", "/ajax-api/")))


def own_checks_prefixes() -> tuple[str, ...]:
    """Paths whose views refuse NUL themselves, in their own error format."""
    return tuple(getattr(settings, "QUERY_CHECKED_BY_VIEW_PREFIXES", ()))
