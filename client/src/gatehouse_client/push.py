"""``Gatehouse``: fetch a version's profile spec from the portal and push window
profiles to it, safely retried.

    gh = Gatehouse("https://gatehouse.example.com", token)
    spec = gh.profile_spec("card-fraud", "production", version=3)
    windows = profile_spark(df, spec)            # or profile_pandas, ...
    gh.push_profiles("card-fraud", "production", 3, windows,
                     batch_id="card-fraud-2026-01-31")

Retries: a connection error, a timeout, or an answer 408, 429, 500, 502, 503
or 504 is retried at most ``retries`` times, waiting ``backoff * 2**attempt``
seconds (at most ``max_backoff``, or the answer's ``Retry-After`` if shorter),
with jitter. That is safe because pushes are idempotent by batch id: the portal
counts a batch id once, answers the same batch again with ``200`` and the same
status URL, and refuses the same id with other content (``409``,
``GatehouseError``). Without a ``batch_id`` one is derived from the document's
content, so pushing the same profiles twice counts them once.

Only the standard library speaks HTTP here (no dependency besides NumPy and
PyArrow).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gatehouse_client.profile import (
    BINARY_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    ProfileSpec,
    WindowProfile,
    encode_binary,
    encode_json,
    merge_windows,
    profiles_document,
)
from gatehouse_client.profile.wire import MAX_WINDOWS

API = "/api/v1/monitoring"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class GatehouseError(Exception):
    """The portal refused a request (or could not be reached after retries).

    ``status`` is the HTTP status (None when unreachable); ``fields`` the
    portal's field errors (path -> messages) of a 400.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        fields: dict[str, list[str]] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.fields = fields or {}

    def __str__(self) -> str:
        text = self.args[0]
        if self.fields:
            details = "; ".join(
                f"{path}: {' '.join(map(str, messages))}"
                for path, messages in self.fields.items()
            )
            text = f"{text} ({details})"
        return text


@dataclass
class PushResult:
    """The portal's answer to one profile document."""

    batch_id: str
    status: int  # 202 accepted, 200 already received (counted once)
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def duplicate(self) -> bool:
        return self.status == 200


class Gatehouse:
    """A client of one portal, authenticated with an API token (scopes
    ``monitoring:read`` for the spec and ``monitoring:push`` for pushes)."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        binary: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.binary = binary
        self._sleep = sleep

    # -- reading -----------------------------------------------------------------

    def profile_spec(
        self, model: str, environment: str, version: int | None = None
    ) -> ProfileSpec:
        """The registered feature spec and reference layouts of a version (the
        live version in ``environment`` when ``version`` is None)."""
        path = f"{API}/models/{_quote(model)}/environments/{_quote(environment)}"
        query = "" if version is None else f"?version={int(version)}"
        _status, body = self._request("GET", f"{path}/profile-spec{query}")
        return ProfileSpec.from_dict(body)

    # -- pushing -----------------------------------------------------------------

    def push_profiles(
        self,
        model: str,
        environment: str,
        version: int | None,
        profiles: Iterable[WindowProfile],
        *,
        batch_id: str | None = None,
        spec: ProfileSpec | None = None,
    ) -> list[PushResult]:
        """Push window profiles (merged hour by hour) as one document, or as
        several of at most 1,000 windows (``<batch_id>.<n>``).

        ``spec`` is the spec the profiles were built on (its reference id goes
        with them, so the portal refuses profiles built on an older
        reference); without it the version's spec is fetched from the portal.
        """
        windows = merge_windows(profiles)
        if not windows:
            raise ValueError("no window profiles to push")
        if spec is None:
            spec = self.profile_spec(model, environment, version)
        if version is None:
            version = spec.version
        chunks = [
            windows[start : start + MAX_WINDOWS]
            for start in range(0, len(windows), MAX_WINDOWS)
        ]
        results = []
        for index, chunk in enumerate(chunks):
            document = profiles_document(chunk, batch_id="", version=version, spec=spec)
            chunk_id = batch_id or content_batch_id(document)
            if batch_id and len(chunks) > 1:
                chunk_id = f"{batch_id}.{index + 1}"
            document["batch_id"] = chunk_id
            results.append(self.push_document(model, environment, document))
        return results

    def push_document(
        self, model: str, environment: str, document: dict[str, Any]
    ) -> PushResult:
        """POST one profile document (binary frame unless ``binary=False``)."""
        if self.binary:
            body, media_type = encode_binary(document), BINARY_MEDIA_TYPE
        else:
            body, media_type = encode_json(document), JSON_MEDIA_TYPE
        path = f"{API}/models/{_quote(model)}/environments/{_quote(environment)}"
        status, answer = self._request(
            "POST", f"{path}/profiles", body=body, media_type=media_type
        )
        return PushResult(batch_id=document["batch_id"], status=status, body=answer)

    # -- HTTP ----------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        media_type: str | None = None,
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        if media_type:
            headers["Content-Type"] = media_type
        attempt = 0
        while True:
            request = urllib.request.Request(  # noqa: S310 - http(s) checked in __init__
                self.url + path, data=body, method=method, headers=headers
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                    return answer.status, _json(answer.read())
            except urllib.error.HTTPError as error:
                payload = _json(error.read())
                if error.code not in RETRY_STATUSES or attempt >= self.retries:
                    raise _refusal(error.code, payload) from None
                wait = self._wait(attempt, error.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                if attempt >= self.retries:
                    raise GatehouseError(
                        f"Gatehouse at {self.url} could not be reached after "
                        f"{attempt + 1} attempts: {getattr(error, 'reason', error)}"
                    ) from error
                wait = self._wait(attempt, None)
            attempt += 1
            self._sleep(wait)

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        wait = min(self.max_backoff, self.backoff * 2**attempt)
        if retry_after and retry_after.strip().isdigit():
            wait = min(self.max_backoff, float(retry_after))
        return wait * (0.5 + random.random() / 2)  # noqa: S311 - jitter only


def content_batch_id(document: dict[str, Any]) -> str:
    """A batch id from the document's content: the same profiles, the same id."""
    content = {key: value for key, value in document.items() if key != "batch_id"}
    digest = hashlib.sha256(encode_json(content)).hexdigest()
    return f"profiles-{digest[:40]}"


def _quote(text: str) -> str:
    return urllib.parse.quote(str(text), safe="")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return {"detail": raw[:200].decode("utf-8", "replace")}


def _refusal(status: int, payload: Any) -> GatehouseError:
    payload = payload if isinstance(payload, dict) else {}
    message = payload.get("detail") or payload.get("message") or f"HTTP {status}"
    fields = payload.get("fields") or payload.get("errors") or {}
    if not isinstance(fields, dict):
        fields = {"detail": [str(fields)]}
    fields = {
        str(path): messages if isinstance(messages, list) else [messages]
        for path, messages in fields.items()
    }
    return GatehouseError(
        f"Gatehouse answered {status}: {message}", status=status, fields=fields
    )
