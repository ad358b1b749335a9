"""Drive the authorization-code flow: the portal through Django's test client,
the provider over HTTP (its sign-in form), the way a browser would."""

from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from tests.oidc.server import CALLBACK_PATH


def authorize(client, provider, login: str, *, next_url: str = "") -> str:
    """Start at the portal, sign in at the provider; return the callback URL
    (path and query) the provider redirects the browser to."""
    start = client.get("/sso/start/" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start
    location = start["Location"]
    assert location.startswith(provider.issuer)
    with requests.Session() as browser:
        page = browser.get(location, timeout=10)
        assert page.status_code == 200, page.text
        uid = urlsplit(page.url).path.rstrip("/").split("/")[-1]
        answer = browser.post(
            f"{provider.issuer}/interaction/{uid}/login",
            data={"login": login},
            allow_redirects=False,
            timeout=10,
        )
        for _ in range(10):
            target = urljoin(answer.url, answer.headers.get("Location", ""))
            if urlsplit(target).path == CALLBACK_PATH:
                parts = urlsplit(target)
                return f"{parts.path}?{parts.query}"
            assert answer.status_code in (302, 303), answer.text
            answer = browser.get(target, allow_redirects=False, timeout=10)
    raise AssertionError("the provider never redirected back to the portal")


def sign_in(client, provider, login: str, **kwargs):
    """The whole flow; returns the portal's answer to the callback."""
    return client.get(authorize(client, provider, login, **kwargs))


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
