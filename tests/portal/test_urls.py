"""The URL configuration: every route reaches its own view, whatever the order
of the patterns (the APIs come first, for speed)."""

import re
import uuid

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter, PathConverter, UUIDConverter
from django.urls.resolvers import RoutePattern

PARAMETER = re.compile(r"<(?:\w+:)?(?P<name>\w+)>")


def _sample(converter) -> str:
    if isinstance(converter, IntConverter):
        return "7"
    if isinstance(converter, UUIDConverter):
        return str(uuid.UUID(int=7))
    if isinstance(converter, PathConverter):
        return "a/b"
    return "x-1"


def _routes(patterns=None, prefix=""):
    """(path, callback) for every route pattern, its converters filled in."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue  # a regular expression: nothing to fill in
        converters = entry.pattern.converters
        route = PARAMETER.sub(
            lambda match, found=converters: _sample(found[match["name"]]),
            entry.pattern._route,
        )
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + route, entry.callback


def test_every_route_resolves_to_its_own_view():
    routes = list(_routes())
    assert len(routes) > 100
    shadowed = [path for path, callback in routes if resolve(path).func is not callback]
    assert shadowed == []


def test_the_apis_are_tried_first():
    prefixes = [
        entry.pattern._route
        for entry in get_resolver().url_patterns
        if isinstance(entry.pattern, RoutePattern)
    ]
    assert prefixes[:3] == ["api/v1/", "api/2.0/mlflow/", "ajax-api/2.0/mlflow/"]
