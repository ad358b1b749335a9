"""The portal's CSP middleware sends exactly the headers django-csp's own
would, on every kind of response, while building the policy once."""

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE
from csp.middleware import CSPMiddleware
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory, override_settings

from kernel import csp

REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp"}}


def _exempt(response):
    response._csp_exempt = True
    return response


def _updated(response):
    response._csp_update = {"img-src": ["https://img.example"]}
    return response


def _preset(response):
    response[HEADER] = "default-src 'none'"
    return response


CASES = {
    "page": lambda request: HttpResponse("<p>page</p>"),
    "json": lambda request: JsonResponse({"ok": True}),
    "not found": lambda request: HttpResponse(status=404),
    "exempt": lambda request: _exempt(HttpResponse()),
    "decorated": lambda request: _updated(HttpResponse()),
    "header already set": lambda request: _preset(HttpResponse()),
    "nonce used": lambda request: HttpResponse(str(request.csp_nonce)),
}


def _headers(middleware_class, view, path="/models/"):
    request = RequestFactory().get(path)
    response = middleware_class(view)(request)
    return {key: response.get(key) for key in (HEADER, HEADER_REPORT_ONLY)}


def _assert_same(path="/models/"):
    for name, view in CASES.items():
        ours = _headers(csp.CachedPolicyCSPMiddleware, view, path)
        theirs = _headers(CSPMiddleware, view, path)
        if name == "nonce used" and "'nonce-" in (theirs[HEADER] or ""):
            # A new nonce on each response: the same header around it.
            assert (
                ours[HEADER].split("'nonce-")[0] == theirs[HEADER].split("'nonce-")[0]
            )
            continue
        assert ours == theirs, name


def test_the_headers_are_django_csps_on_every_kind_of_response():
    _assert_same()
    assert (
        _headers(csp.CachedPolicyCSPMiddleware, CASES["page"])[HEADER]
        == (_headers(CSPMiddleware, CASES["page"])[HEADER])
    )
    assert (
        "frame-ancestors 'none'"
        in _headers(csp.CachedPolicyCSPMiddleware, CASES["json"])[HEADER]
    )


def test_changed_settings_change_the_header(settings):
    before = _headers(csp.CachedPolicyCSPMiddleware, CASES["page"])
    with override_settings(
        CONTENT_SECURITY_POLICY={
            "DIRECTIVES": {"default-src": ["'none'"], "script-src": [NONCE]},
            "EXCLUDE_URL_PREFIXES": ["/api/"],
        },
        CONTENT_SECURITY_POLICY_REPORT_ONLY=REPORT_ONLY,
    ):
        _assert_same()
        _assert_same(path="/api/v1/models/")
        changed = _headers(csp.CachedPolicyCSPMiddleware, CASES["page"])
        # (django-csp orders directives as a set does.)
        assert set(changed[HEADER].split("; ")) == {"default-src 'none'", "script-src"}
        with_nonce = _headers(csp.CachedPolicyCSPMiddleware, CASES["nonce used"])
        assert "script-src 'nonce-" in with_nonce[HEADER]
        assert set(changed[HEADER_REPORT_ONLY].split("; ")) == {
            "default-src 'self'",
            "report-uri /csp",
        }
        excluded = _headers(csp.CachedPolicyCSPMiddleware, CASES["page"], "/api/x")
        assert excluded[HEADER] is None
    assert _headers(csp.CachedPolicyCSPMiddleware, CASES["page"]) == before


@pytest.mark.parametrize("debug", [True, False])
def test_debug_error_pages_as_django_csp(settings, debug):
    settings.DEBUG = debug
    _assert_same()


def test_a_nonce_asked_for_after_the_header_is_an_error():
    request = RequestFactory().get("/")
    csp.CachedPolicyCSPMiddleware(CASES["page"])(request)
    with pytest.raises(Exception, match="not available after the CSP header"):
        str(request.csp_nonce)
