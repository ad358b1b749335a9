"""The OpenAPI schema's shared answers, documented once for every operation.

Some answers come from the kernel's web layer, not from a view: a query or body
it refuses (NUL, lone surrogates, nesting, page bounds) is a 400, a request
without valid credentials a 401, a body of a media type no parser reads a 415.
A view documents what it does itself; this hook adds what the layer around it
does (and a 403 on every write, asked before its body is read: see
``kernel.api.ApiView``), so that clients (and the schema fuzzing in
tests/fuzz) can trust the schema's list of status codes.
"""

from typing import Any

ERROR_COMPONENT = "ErrorOutput"
_ERROR = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
_METHODS = ("get", "put", "post", "patch", "delete")

_SHARED = {
    "400": "Refused by the API's input limits (malformed or unstorable text, "
    "nesting, page bounds) or an invalid query.",
    "401": "No valid credentials: a missing, unknown, expired or revoked token.",
}
_WITH_BODY = {
    "415": "The body's media type is not one this operation reads.",
}
_WRITES = ("put", "post", "patch", "delete")
_WRITE = {
    "403": "You may not change this: refused before the body is read "
    "(auditors and people without a role or team change nothing).",
}


def _error_answer(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ERROR}},
    }


def document_shared_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the shared error answers."""
    if ERROR_COMPONENT not in result.get("components", {}).get("schemas", {}):
        return result
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method in _METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            shared = dict(_SHARED)
            if "requestBody" in operation:
                shared.update(_WITH_BODY)
            if method in _WRITES:
                shared.update(_WRITE)
            for status, description in shared.items():
                responses.setdefault(status, _error_answer(description))
    return result
