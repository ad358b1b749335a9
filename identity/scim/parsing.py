"""SCIM input: bodies, PATCH operations and filters, validated into plain
values before anything is written. Every problem is a ScimError (400)."""

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from rest_framework.exceptions import ParseError

from identity.scim.resources import (
    GROUP_SCHEMA,
    MAX_PAGE,
    PATCH_SCHEMA,
    USER_SCHEMA,
    invalid,
)
from kernel.guards import loads_checked

MAX_BODY_BYTES = 1 * 2**20
MAX_MEMBERS = 10_000
MAX_OPERATIONS = 100

# attr eq "value" — the only filter IdPs send (Entra ID, Okta, Keycloak plugins).
_FILTER = re.compile(r'^\s*([A-Za-z.]+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
_MEMBER_PATH = re.compile(r'^members\[\s*value\s+eq\s+"([^"]+)"\s*\]$', re.IGNORECASE)


def parse_body(request) -> dict[str, Any]:
    if len(request.body) > MAX_BODY_BYTES:
        raise invalid(f"The body is larger than {MAX_BODY_BYTES} bytes.", "tooMany")
    try:
        data = loads_checked(request.body)
    except ParseError as error:
        raise invalid(str(error.detail), "invalidSyntax") from error
    if not isinstance(data, dict):
        raise invalid("The body must be a JSON object.", "invalidSyntax")
    return data


def _schemas(data: dict, schema: str) -> None:
    schemas = data.get("schemas")
    if not isinstance(schemas, list) or schema not in schemas:
        raise invalid(f"schemas must list {schema}.", "invalidSyntax")


def _text(value: Any, name: str, *, limit: int = 255, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise invalid(
            f"{name} must be a non-empty string."
            if required
            else f"{name} must be a string."
        )
    if len(value) > limit:
        raise invalid(f"{name} is longer than {limit} characters.")
    return value.strip()


def _username(value: Any) -> str:
    username = _text(value, "userName", limit=150, required=True)
    try:
        get_user_model().username_validator(username)
    except ValidationError as error:
        raise invalid(f"userName: {' '.join(error.messages)}") from error
    return username


def _email(value: Any) -> str:
    if value in (None, []):
        return ""
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise invalid("emails must be a list of objects.")
    chosen = next((e for e in value if e.get("primary") is True), value[0])
    email = _text(chosen.get("value"), "emails.value", limit=254)
    if email:
        try:
            validate_email(email)
        except ValidationError as error:
            raise invalid("emails.value is not an email address.") from error
    return email


def boolean(value: Any, name: str) -> bool:
    # Entra ID sends "True"/"False" as strings in PATCH operations.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(f"{name} must be true or false.")


@dataclass
class UserFields:
    """A user's SCIM attributes that Gatehouse keeps."""

    username: str
    external_id: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    is_active: bool = True


def user_fields(data: dict) -> UserFields:
    """A full user (POST, PUT)."""
    _schemas(data, USER_SCHEMA)
    name = data.get("name") or {}
    if not isinstance(name, dict):
        raise invalid("name must be an object.")
    return UserFields(
        username=_username(data.get("userName")),
        external_id=_text(data.get("externalId"), "externalId"),
        first_name=_text(name.get("givenName"), "name.givenName", limit=150),
        last_name=_text(name.get("familyName"), "name.familyName", limit=150),
        email=_email(data.get("emails")),
        is_active=boolean(data.get("active", True), "active"),
    )


def _operations(data: dict) -> list[tuple[str, str, Any]]:
    _schemas(data, PATCH_SCHEMA)
    operations = data.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise invalid("Operations must be a non-empty list.", "invalidSyntax")
    if len(operations) > MAX_OPERATIONS:
        raise invalid(f"At most {MAX_OPERATIONS} operations.", "tooMany")
    parsed = []
    for operation in operations:
        if not isinstance(operation, dict):
            raise invalid("Each operation must be an object.", "invalidSyntax")
        op = operation.get("op")
        if not isinstance(op, str) or op.lower() not in ("add", "replace", "remove"):
            raise invalid("op must be add, replace or remove.", "invalidSyntax")
        path = operation.get("path", "")
        if not isinstance(path, str):
            raise invalid("path must be a string.", "invalidPath")
        parsed.append((op.lower(), path.strip(), operation.get("value")))
    return parsed


_USER_PATHS = {
    "username": "userName",
    "externalid": "externalId",
    "active": "active",
    "name.givenname": "name.givenName",
    "name.familyname": "name.familyName",
    "displayname": "displayName",
    "emails": "emails",
    'emails[type eq "work"].value': "emails.work",
    "name.formatted": "displayName",
}


def user_patched(current: UserFields, data: dict) -> UserFields:
    """``current`` with a PATCH request's operations applied (RFC 7644 3.5.2)."""
    new = UserFields(**current.__dict__)

    def assign(path: str, value: Any) -> None:
        key = _USER_PATHS.get(path.lower())
        if key is None:
            raise invalid(f"Unsupported path {path!r}.", "invalidPath")
        if key == "userName":
            new.username = _username(value)
        elif key == "externalId":
            new.external_id = _text(value, "externalId")
        elif key == "active":
            new.is_active = boolean(value, "active")
        elif key == "name.givenName":
            new.first_name = _text(value, "name.givenName", limit=150)
        elif key == "name.familyName":
            new.last_name = _text(value, "name.familyName", limit=150)
        elif key == "emails":
            new.email = _email(value)
        elif key == "emails.work":
            new.email = _email([{"value": value}])
        # displayName is derived from the names: accepted and ignored.

    for op, path, value in _operations(data):
        if op == "remove":
            raise invalid("Removing user attributes is not supported.", "mutability")
        if path:
            assign(path, value)
        elif isinstance(value, dict):
            for key, item in value.items():
                if key == "name" and isinstance(item, dict):
                    for part, text in item.items():
                        assign(f"name.{part}", text)
                else:
                    assign(key, item)
        else:
            raise invalid("An operation without path needs an object value.")
    return new


@dataclass
class GroupFields:
    display_name: str
    external_id: str = ""
    member_ids: set[uuid.UUID] = field(default_factory=set)


def _member_ids(value: Any) -> set[uuid.UUID]:
    if value is None:
        return set()
    if not isinstance(value, list) or len(value) > MAX_MEMBERS:
        raise invalid(f"members must be a list of at most {MAX_MEMBERS}.")
    ids = set()
    for member in value:
        if not isinstance(member, dict):
            raise invalid("Each member must be an object with a value.")
        ids.add(scim_id(member.get("value"), "members.value"))
    return ids


def scim_id(value: Any, name: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as error:
        raise invalid(f"{name} is not an id of this service.") from error


def group_fields(data: dict) -> GroupFields:
    _schemas(data, GROUP_SCHEMA)
    return GroupFields(
        display_name=_text(data.get("displayName"), "displayName", required=True),
        external_id=_text(data.get("externalId"), "externalId"),
        member_ids=_member_ids(data.get("members")),
    )


def group_patched(current: GroupFields, data: dict) -> GroupFields:
    new = GroupFields(
        current.display_name, current.external_id, set(current.member_ids)
    )
    for op, path, value in _operations(data):
        lowered = path.lower()
        member = _MEMBER_PATH.match(path)
        if member and op == "remove":
            new.member_ids.discard(scim_id(member.group(1), "members.value"))
        elif lowered == "members" and op == "add":
            new.member_ids |= _member_ids(value)
        elif lowered == "members" and op == "remove":
            if value is None:
                new.member_ids.clear()
            else:
                new.member_ids -= _member_ids(value)
        elif lowered == "members" and op == "replace":
            new.member_ids = _member_ids(value)
        elif lowered == "displayname" and op != "remove":
            new.display_name = _text(value, "displayName", required=True)
        elif lowered == "externalid" and op != "remove":
            new.external_id = _text(value, "externalId")
        elif not path and op != "remove" and isinstance(value, dict):
            for key, item in value.items():
                if key == "displayName":
                    new.display_name = _text(item, "displayName", required=True)
                elif key == "externalId":
                    new.external_id = _text(item, "externalId")
                elif key == "members":
                    new.member_ids = (
                        _member_ids(item)
                        if op == "replace"
                        else new.member_ids | _member_ids(item)
                    )
                else:
                    raise invalid(f"Unsupported attribute {key!r}.", "invalidPath")
        else:
            raise invalid(f"Unsupported operation {op} {path!r}.", "invalidPath")
    return new


def list_filter(request, allowed: dict[str, str]) -> tuple[str, str] | None:
    """``(field, value)`` of ``?filter=attr eq "value"``; ``allowed`` maps the
    SCIM attribute (lower case) to the lookup it becomes."""
    text = request.GET.get("filter")
    if text is None:
        return None
    match = _FILTER.match(text)
    if match is None or match.group(1).lower() not in allowed:
        raise invalid(
            'Only filters of the form attribute eq "value" on '
            f"{', '.join(sorted(allowed))} are supported.",
            "invalidFilter",
        )
    value = match.group(2).replace('\\"', '"').replace("\\\\", "\\")
    if "\x00" in value or len(value) > 255:
        raise invalid("The filter value is not valid.", "invalidFilter")
    return allowed[match.group(1).lower()], value


def page(request) -> tuple[int, int]:
    """(startIndex, count) of a list request: 1-based, at most MAX_PAGE."""

    def number(name: str, default: int, low: int, high: int) -> int:
        raw = request.GET.get(name)
        if raw is None or raw == "":
            return default
        if not (raw.isascii() and raw.isdigit()):
            raise invalid(f"{name} must be a whole number.")
        return min(max(int(raw), low), high)

    return number("startIndex", 1, 1, 10**9), number("count", 100, 0, MAX_PAGE)
