"""Auditors read everything and change nothing: over the WHOLE URL map.

Every URL pattern in the resolver (walked recursively, whatever app added it)
gets its path parameters filled from a world of real records, and an auditor
then sends it POST, PUT, PATCH and DELETE:

* with an empty body (JSON ``{}`` for the APIs);
* with every request-body example the OpenAPI schema documents for it;
* with every form that the people who *may* act (a data scientist of the team,
  a risk officer, a validator, a platform admin) are shown on the portal's
  pages, filled as their browser would send it.

Each must be refused — 400/401/403/404/405/409/415/422, a redirect to the login
page or back with an error message, or an HTML form shown again — and the
database must be exactly as before: every table's row count and a digest of
every row's content, compared before and after each request.

The few endpoints an auditor is *meant* to use with a mutating method are
listed in ``ALLOWED`` with the reason and the only tables they may touch.
"""

import itertools
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.apps import apps
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern

from approvals import services as approvals_services
from audit.models import AuditEvent
from portal.models import ReportExport
from portal.services import api_token_create
from tests.approvals import scenarios
from tests.models_registry import lineage_world

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

METHODS = ("post", "put", "patch", "delete")
REFUSED = {400, 401, 403, 404, 405, 409, 415, 422}
REDIRECTS = {301, 302, 303}

# Tables left out of the comparison, with the reason.
UNCOMPARED_TABLES = {
    # The auditor's own login state: a session row may be saved by any request.
    "django_session",
}

# url_name → (method, why an auditor may send it, tables it may change).
ALLOWED = {
    "audit:verification-run": (
        "post",
        "auditors run the chain verification; it queues a task that records "
        "a ChainVerification (nothing of the audit log itself changes)",
        {"audit_chainverification"},
    ),
    "reports:export-start": (
        "post",
        "auditors export lineage reports: a large one is queued as a "
        "ReportExport job, and the finished export is a report.exported event",
        {"portal_reportexport", "audit_auditevent"},
    ),
    "logout": (
        "post",
        "logging out ends the auditor's own session, recorded as auth.logout",
        {"audit_auditevent"},
    ),
    "admin:logout": (
        "post",
        "logging out ends the auditor's own session, recorded as auth.logout",
        {"audit_auditevent"},
    ),
}


# --- The world ----------------------------------------------------------------------


@pytest.fixture
def world(team, auditor, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    built = lineage_world.build(team)
    cast = built.cast
    report = approvals_services.validation_report_record(
        actor=cast.validator,
        version=built.v2,
        outcome="passed_with_findings",
        summary="Stable on 2024 data.",
        findings=[
            {
                "severity": "low",
                "title": "Calibration drifts at the tails",
                "owner": cast.author.username,
            }
        ],
    )
    built.finding = report.findings.get()
    # A live deployment with a rollback target, so the rollback form is shown.
    built.redeployed = scenarios.deploy(cast, built.v2)
    built.token, _ = api_token_create(user=cast.author, name="ci")
    built.export = ReportExport.objects.create(
        requested_by=cast.author, model=built.model, format="json"
    )
    _monitoring_records(built)
    built.auditor = auditor
    return built


def _monitoring_records(world) -> None:
    """A monitoring target with an open alert, when monitoring keeps alerts, so
    that its alert pages get real ids."""
    if not apps.is_installed("monitoring"):
        return
    try:
        target_model = apps.get_model("monitoring", "MonitoringTarget")
        alert_model = apps.get_model("monitoring", "Alert")
    except LookupError:
        return
    target = target_model.objects.create(
        model=world.model,
        version=world.v1,
        environment=world.restored.environment,
    )
    alert_model.objects.create(
        target=target,
        kind="data_drift",
        subject="income",
        severity="high",
        title="Drift on income",
        first_window_start=world.restored.started_at,
        last_window_start=world.restored.started_at,
    )


# --- Filling path parameters --------------------------------------------------------

# Path segments whose ids are not named after their model.
SEGMENT_MODELS = {
    "datasets": "models_registry.DatasetSnapshot",
    "runs": "models_registry.TrainingRun",
    "versions": "models_registry.ModelVersion",
    "requests": "approvals.DeploymentRequest",
    "deployments": "approvals.Deployment",
    "findings": "approvals.Finding",
    "exports": "portal.ReportExport",
    "tokens": "portal.ApiToken",
    "events": "audit.AuditEvent",
    "checkpoints": "audit.AuditCheckpoint",
    "review": "monitoring.ReviewItem",
}


def _model_for_segment(segment: str):
    if segment in SEGMENT_MODELS:
        label = SEGMENT_MODELS[segment]
        try:
            return apps.get_model(label)
        except LookupError:
            return None
    singular = segment.removesuffix("s").replace("-", "").replace("_", "")
    matches = [
        model
        for model in apps.get_models()
        if model._meta.model_name == singular
        or model._meta.model_name.startswith(singular)
    ]
    return matches[0] if len(matches) == 1 else None


def _ids_of(model) -> list[str]:
    return [
        str(pk) for pk in model.objects.order_by("-pk").values_list("pk", flat=True)[:3]
    ]


def _all_fixture_ids() -> list[str]:
    """Every id of the world's main records: tried where nothing better is known."""
    ids = set()
    for label in SEGMENT_MODELS.values():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        ids.update(_ids_of(model))
    return sorted(ids, key=int)


def _values(world, segments: list[str], name: str, converter: str) -> list[str]:
    """Candidate values for one path parameter, from the segment before it."""
    previous = segments[-1] if segments else ""
    if name == "name":
        return [world.model.name]
    if name == "number":
        return ["1", "2"]
    if name in {"environment", "env"}:
        return ["staging", "production"]
    if name == "sequence":
        return [str(AuditEvent.objects.order_by("-sequence").first().sequence)]
    if name == "token_id":
        return [str(world.token.pk)]
    if name == "content_type_id":
        return [str(ContentType.objects.get_for_model(world.model).pk)]
    if name in {"object_id", "id"} and segments[:1] == ["admin"]:
        try:
            model = apps.get_model(segments[1], segments[2])
        except (IndexError, LookupError):
            model = type(world.model)  # view_on_site: r/<content type>/<id>
        return _ids_of(model)[:1] or ["1"]
    if name == "app_label":
        return ["models_registry"]
    model = _model_for_segment(previous)
    if model is not None and (ids := _ids_of(model)):
        return ids
    if converter in {"int", "path", "str"} and name.endswith("id"):
        return _all_fixture_ids()
    return [world.model.name]


_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")


def _route_parts(pattern) -> list[tuple[str, str | None, str | None]]:
    """A pattern as (literal, parameter name, converter) pieces."""
    if isinstance(pattern, RoutePattern):
        text = str(pattern)
        parts, position = [], 0
        for match in _PARAMETER.finditer(text):
            parts.append((text[position : match.start()], None, None))
            parts.append(("", match["name"], match["converter"] or "str"))
            position = match.end()
        parts.append((text[position:], None, None))
        return parts
    if isinstance(pattern, RegexPattern):
        text = str(pattern.regex.pattern).removeprefix("^").removesuffix("$")
        parts, position = [], 0
        for match in _GROUP.finditer(text):
            parts.append((text[position : match.start()], None, None))
            alternatives = match["body"].split("|")
            if all(re.fullmatch(r"[\w-]+", each) for each in alternatives):
                parts.append((alternatives[0], None, None))
            else:
                parts.append(("", match["name"], "regex"))
            position = match.end()
        parts.append((text[position:], None, None))
        cleaned = []
        for literal, name, converter in parts:
            literal = (
                literal.replace("^", "").replace("$", "").replace(".*", "anything")
            )
            cleaned.append((literal.replace("\\", ""), name, converter))
        return cleaned
    raise TypeError(pattern)


@dataclass
class Endpoint:
    url_name: str
    pattern_text: str
    callback: object
    paths: list[str] = field(default_factory=list)


def endpoints(world) -> list[Endpoint]:
    found = []

    def walk(patterns, prefix_parts, namespace):
        for entry in patterns:
            parts = prefix_parts + _route_parts(entry.pattern)
            if isinstance(entry, URLResolver):
                child = namespace
                if entry.namespace:
                    child = (
                        f"{namespace}:{entry.namespace}"
                        if namespace
                        else entry.namespace
                    )
                walk(entry.url_patterns, parts, child)
            elif isinstance(entry, URLPattern):
                name = (
                    entry.name
                    or f"(unnamed) {''.join(p[0] or f'<{p[1]}>' for p in parts)}"
                )
                if namespace and entry.name:
                    name = f"{namespace}:{entry.name}"
                found.append(_fill(world, name, parts, entry))

    walk(get_resolver().url_patterns, [], "")
    return found


def _fill(world, url_name, parts, entry) -> Endpoint:
    text = "".join(literal or f"<{name}>" for literal, name, _ in parts)
    endpoint = Endpoint(url_name, text, entry.callback)
    choices = []
    literal_so_far = ""
    for literal, name, converter in parts:
        if name is None:
            choices.append([literal])
            literal_so_far += literal
            continue
        segments = [each for each in literal_so_far.split("/") if each]
        choices.append(_values(world, segments, name, converter))
        literal_so_far += "x"
    for combination in itertools.islice(itertools.product(*choices), 6):
        path = "/" + "".join(combination)
        try:
            match = resolve(urlsplit(path).path)
        except Resolver404:
            continue
        if match.func is entry.callback:
            endpoint.paths.append(path)
    return endpoint


# --- Forms and schema examples ------------------------------------------------------


class _Forms(HTMLParser):
    """The POST forms of a page, with the values a browser would send."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if (attrs.get("method") or "get").lower() == "post":
                self._form = {"action": attrs.get("action") or "", "fields": {}}
                self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            if kind == "submit" and name in self._form["fields"]:
                return
            self._form["fields"].setdefault(name, attrs.get("value") or "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            fields = self._form["fields"]
            if self._select not in fields or "selected" in attrs:
                fields[self._select] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self._form["fields"][name] = ""

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_seen_by(people, paths) -> dict[str, list[dict]]:
    """POST forms on the pages these people see: action path → field sets."""
    found: dict[str, list[dict]] = defaultdict(list)
    for person in people:
        client = Client()
        client.force_login(person)
        for path in paths:
            response = client.get(path)
            content_type = response.get("Content-Type", "")
            if response.status_code != 200 or not content_type.startswith("text/html"):
                continue
            parser = _Forms()
            parser.feed(response.content.decode())
            for form in parser.forms:
                # Each person's token differs; the test client checks none.
                form["fields"].pop("csrfmiddlewaretoken", None)
                action = urlsplit(urljoin(path, form["action"])).path
                if form["fields"] not in found[action]:
                    found[action].append(form["fields"])
    return found


def schema_examples(client) -> dict[tuple[str, str], list[dict]]:
    """(path template, method) → request-body examples of the OpenAPI schema."""
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    examples: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for template, operations in json.loads(response.content)["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                for example in media.get("examples", {}).values():
                    if isinstance(example.get("value"), dict):
                        examples[(template, method)].append(example["value"])
    return examples


def _template_matches(template: str, path: str) -> bool:
    pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
    return re.match(pattern, path) is not None


# --- Comparing the database -------------------------------------------------------


def table_activity() -> dict[str, int]:
    """Rows inserted, updated or deleted per table so far in this transaction.

    A cheap first look: only tables whose counter moved get their rows digested
    again (a counter also moves for writes rolled back by a savepoint, which the
    digest then tells apart)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del "
            "FROM pg_stat_xact_user_tables"
        )
        return dict(cursor.fetchall())


def table_digests(only: set[str] | None = None) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent digest of every table's rows."""
    tables = sorted(
        table
        for table in connection.introspection.table_names()
        if table not in UNCOMPARED_TABLES and (only is None or table in only)
    )
    if not tables:
        return {}
    quote = connection.ops.quote_name
    # Table names come from the database's own catalogue.
    sql = " UNION ALL ".join(
        f"SELECT %s, count(*), coalesce(md5(string_agg(md5(t::text), '' "
        f"ORDER BY md5(t::text))), '') FROM {quote(table)} AS t"
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, tables)
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


def changed_tables(before, after) -> set[str]:
    return {
        table
        for table in before.keys() | after.keys()
        if before.get(table) != after.get(table)
    }


# --- The test -----------------------------------------------------------------------


# Views that send a signed-in person on without doing anything.
REDIRECTS_AWAY = {
    "login": "the login page sends a signed-in person on to the home page",
    "admin:logout": "the admin sends a person who is not staff on to its index, "
    "which sends them to its login page",
}
LOGIN_VIEWS = {"login", "admin:login"}


@dataclass
class Attempt:
    url_name: str
    method: str
    path: str
    body: str
    status: int
    content_type: str
    # Where a redirect goes (its view name), and whether the request left an
    # error or warning message for the next page.
    redirect_to: str
    has_error_message: bool
    changed: set[str]

    def __str__(self):
        return (
            f"{self.method.upper()} {self.path} ({self.url_name}, {self.body}) → "
            f"{self.status} {self.content_type} {self.redirect_to}"
            + (f", changed {sorted(self.changed)}" if self.changed else "")
        )

    @property
    def is_refused(self) -> bool:
        if self.status in REFUSED:
            return True
        if self.status in REDIRECTS:
            # To the login page (not allowed here), back with an error, or
            # away from a page with nothing to do.
            return (
                self.redirect_to in LOGIN_VIEWS
                or self.has_error_message
                or self.url_name in REDIRECTS_AWAY
            )
        # An HTML form shown again (that nothing changed is checked apart).
        return self.status == 200 and self.content_type.startswith("text/html")


def _send(client, method, path, data, *, as_json):
    send = getattr(client, method)
    if as_json:
        return send(path, data=json.dumps(data), content_type="application/json")
    if method == "post":
        return send(path, data=data)
    # Django's test client sends PUT, PATCH and DELETE bodies as given.
    return send(
        path,
        data=urlencode(data, doseq=True),
        content_type="application/x-www-form-urlencoded",
    )


# The forms of the people who may act that the harvest must find (so a broken
# harvest cannot pass unnoticed): deciding, rolling back, editing a card,
# validating, changing the risk class, making a token.
EXPECTED_FORMS = {
    "approvals:request-decide",
    "approvals:deployment-rollback",
    "registry:card-edit",
    "approvals:version-validate",
    "registry:model-risk-class",
    "api-tokens",
}


def _view_name(path: str) -> str:
    try:
        return resolve(urlsplit(path).path).view_name
    except Resolver404:
        return "(unresolved)"


def test_an_auditor_changes_nothing_through_any_url(world):
    auditor = world.auditor
    cast = world.cast
    found = endpoints(world)
    unfilled = [each.pattern_text for each in found if not each.paths]
    assert unfilled == [], f"no path could be built for: {unfilled}"
    assert len(found) > 100, "the resolver walk missed most of the URL map"

    every_path = [path for each in found for path in each.paths]
    page_paths = [path for path in every_path if not path.startswith("/admin/")]
    forms = forms_seen_by(
        [cast.author, cast.risk_officer, cast.validator, cast.reviewer], page_paths
    )
    for action, bodies in forms_seen_by([cast.admin], every_path).items():
        forms[action].extend(body for body in bodies if body not in forms[action])
    missing = EXPECTED_FORMS - {_view_name(action) for action in forms}
    assert missing == set(), f"forms not found on any page: {missing}"

    client = Client()
    client.force_login(auditor)
    examples = schema_examples(client)
    assert examples, "the OpenAPI schema documents no request body example"

    requests = []  # (url name, method, path, body label, body, as JSON)
    for endpoint in found:
        for path in endpoint.paths:
            route = urlsplit(path).path
            is_api = route.startswith(("/api/", "/ajax-api/"))
            for method in METHODS:
                requests.append((endpoint.url_name, method, path, "empty", {}, is_api))
            for (template, method), listed in examples.items():
                if method in METHODS and _template_matches(template, route):
                    for body in listed:
                        requests.append(
                            (endpoint.url_name, method, path, "example", body, True)
                        )
    for action, bodies in forms.items():
        for body in bodies:
            requests.append((_view_name(action), "post", action, "form", body, False))

    attempts: list[Attempt] = []
    allowed_forms = 0
    digests = table_digests()
    for url_name, method, path, label, body, as_json in requests:
        if "_auth_user_id" not in client.session:
            client.force_login(auditor)  # after a logout
            digests = table_digests()
        activity = table_activity()
        response = _send(client, method, path, body, as_json=as_json)
        moved = {
            table
            for table, count in table_activity().items()
            if count != activity.get(table)
        }
        fresh = table_digests(only=moved) if moved else {}
        changed = changed_tables({t: digests.get(t) for t in fresh}, fresh)
        digests.update(fresh)
        allowed_method, _, allowed_tables = ALLOWED.get(url_name, (None, "", set()))
        if method == allowed_method:
            unexpected = changed - allowed_tables
            assert not unexpected, f"{method.upper()} {path} changed {unexpected}"
            allowed_forms += label == "form"
            continue
        attempts.append(
            Attempt(
                url_name,
                method,
                path,
                label,
                response.status_code,
                response.get("Content-Type", ""),
                _view_name(response["Location"])
                if response.status_code in REDIRECTS
                else "",
                any(
                    message.level >= messages.WARNING
                    for message in messages.get_messages(response.wsgi_request)
                ),
                changed,
            )
        )

    changes = [str(attempt) for attempt in attempts if attempt.changed]
    assert changes == [], "an auditor changed the database:\n" + "\n".join(changes)
    accepted = [str(attempt) for attempt in attempts if not attempt.is_refused]
    assert accepted == [], "not refused:\n" + "\n".join(accepted)
    tried_forms = sum(attempt.body == "form" for attempt in attempts) + allowed_forms
    assert tried_forms >= len(forms)
