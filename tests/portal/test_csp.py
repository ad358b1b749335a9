"""The Content-Security-Policy: every page of a seeded portal sends it, for a
platform admin and for a data scientist, and no page needs what it refuses
(inline scripts, event-handler attributes, inline styles).

The pages are found by following links from the home page, as the person
would, up to two URLs per route, so a new page is covered as soon as something
links to it. The browser's side (no violation while the charts draw) is in
tests/e2e/test_csp.py.
"""

import html
import io
import re
from collections import Counter, deque
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import Resolver404, resolve

pytestmark = pytest.mark.django_db

EXPECTED = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    # Only style="" (plotly.js clearing its colour bars): the empty string's hash.
    "style-src-attr": [
        "'unsafe-hashes'",
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    ],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# Routes every crawl must reach: the pages with charts, graphs and scripts.
MUST_REACH = {
    "home",
    "api-docs",
    "registry:model-list",
    "registry:model-detail",
    "registry:version-detail",
    "registry:model-lineage",
    "approvals:queue",
    "approvals:request-detail",
    "approvals:deployment-detail",
    "monitoring:overview",
    "monitoring:dashboard",
}
PER_ROUTE = 2
ADMIN_MODEL_PAGE = re.compile(r"^admin:\w+_(changelist|change|add|history|delete)$")
HREF = re.compile(r'\bhref="([^"]*)"')
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)


def policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def _links(body: str) -> list[str]:
    found = []
    for href in HREF.findall(body):
        url = html.unescape(href)
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue  # other sites, fragments, mailto:
        if parts.path.startswith("/static/") or "format=pdf" in parts.query:
            continue  # files; PDFs are slow to render and carry no policy of their own
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _route(url: str) -> str:
    """The URL's route name; Django admin's pages of every model count as one
    route per kind (list, change, add, history, delete): same templates."""
    try:
        name = resolve(urlsplit(url).path).view_name
    except Resolver404:
        return "<no route>"
    return ADMIN_MODEL_PAGE.sub(r"admin:\1", name)


def crawl(client, start: str = "/"):
    """(url, route name, response) for each page reachable by links from
    ``start``, at most PER_ROUTE URLs per route."""
    per_route = Counter()
    queue, queued = deque([start]), {start}
    while queue:
        url = queue.popleft()
        route = _route(url)
        if per_route[route] >= PER_ROUTE:
            continue
        per_route[route] += 1
        response = client.get(url)
        yield url, route, response
        if response.get("Content-Type", "").startswith("text/html"):
            for link in _links(response.content.decode()):
                if link not in queued:
                    queued.add(link)
                    queue.append(link)


@pytest.fixture
def demo_world(db, settings, tmp_path, monkeypatch):
    """The demo's people and records (``seed_demo``), with 8 hours of monitoring
    data rather than 72 (every chart still drawn, 4 s rather than 15)."""
    from monitoring import demo

    monkeypatch.setattr(demo, "HOURS", 8)
    monkeypatch.setattr(demo, "DRIFT_HOURS", 3)
    monkeypatch.setattr(demo, "SLOW_HOURS", 2)
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())


def test_every_page_sends_the_policy_and_needs_no_inline_code(client, demo_world):
    for username in ("pat", "dana"):  # a platform admin, a data scientist
        client.force_login(get_user_model().objects.get(username=username))
        reached, problems = set(), []
        for url, route, response in crawl(client):
            reached.add(route)
            problems += _problems(url, response)
        assert problems == [], username
        assert MUST_REACH - reached == set(), username
        assert ("admin:index" in reached) == (username == "pat")


def _problems(url, response) -> list[str]:
    found = []
    if response.status_code >= 500:
        found.append(f"{url}: {response.status_code}")
    if policy(response) != EXPECTED:
        found.append(f"{url}: {response.get('Content-Security-Policy')!r}")
    if not response.get("Content-Type", "").startswith("text/html"):
        return found
    body = response.content.decode()
    for attributes in SCRIPT_TAG.findall(body):
        if "src=" not in attributes and 'type="application/json"' not in attributes:
            found.append(f"{url}: inline script <script{attributes}>")
    if HANDLER_ATTRIBUTE.search(body):
        found.append(f"{url}: event-handler attribute")
    if STYLE_ATTRIBUTE.search(body) or "<style" in body:
        found.append(f"{url}: inline style")
    return found


def test_error_pages_and_api_answers_send_it_too(client, data_scientist):
    assert policy(client.get("/login/")) == EXPECTED
    assert policy(client.get("/no-such-page/")) == EXPECTED
    assert policy(client.get("/api/v1/models/")) == EXPECTED  # 401/403 JSON
    client.force_login(data_scientist)
    assert policy(client.get("/api/v1/no-such-route/")) == EXPECTED


def test_api_docs_load_their_init_script_from_a_file(client):
    page = client.get("/api/docs/")
    body = page.content.decode()
    assert '<script src="/api/docs/?script="></script>' in body
    assert "<style" not in body
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
    assert policy(script) == EXPECTED


def test_plotly_style_sheet_and_marker_match_the_bundle():
    """After a plotly.js upgrade, scripts/plotly_css.py must be run again: the
    CSS it wrote and the MapLibre id in the template belong to one bundle."""
    from django.conf import settings

    static = settings.BASE_DIR / "static" / "vendor" / "plotly"
    bundle = (static / "plotly.min.js").read_text()
    version = re.search(r"plotly\.js v(\S+)", bundle[:200]).group(1)
    assert f"from plotly.js v{version}:" in (static / "plotly.css").read_text()
    template = settings.BASE_DIR / "templates" / "monitoring" / "_charts_js.html"
    marker = re.search(r'<template id="([0-9a-f]{64})">', template.read_text())
    assert f'document.getElementById("{marker.group(1)}")' in bundle
