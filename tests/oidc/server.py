"""The test suite's OpenID provider: tests/oidc/provider.mjs (the certified
``oidc-provider`` package on Node.js), started once per test session.

Import the ``oidc_provider`` fixture where it is needed. Without node (or
without ``npm ci`` in tests/oidc) the SSO tests are skipped locally with a
message saying what to install; in CI (CI set) they fail instead, since
``.ci/run`` installs both.
"""

import json
import os
import select
import shutil
import socket
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

HERE = Path(__file__).resolve().parent
CLIENT_ID = "gatehouse"
CLIENT_SECRET = "test-client-secret-0123456789abcdef"
CALLBACK_PATH = "/sso/callback/"
_LOOPBACK_HOSTS = ("testserver", "localhost", "127.0.0.1")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (.ci/run installs it: this must not happen in CI)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _private_jwk(key, kid: str) -> dict[str, Any]:
    jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    # PyJWT marks a private JWK key_ops ["sign"]; the provider also verifies
    # its own ID tokens with it (id_token_hint at sign-out).
    jwk.pop("key_ops", None)
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


@dataclass
class OidcProvider:
    issuer: str
    key: Any
    kid: str
    accounts_file: Path
    accounts: dict[str, dict] = field(default_factory=dict)
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def set_account(self, login: str, *, groups=(), email=None, **claims) -> None:
        """Create or change an account; read at the provider's next sign-in."""
        self.accounts[login] = {
            "email": email or f"{login}@example.com",
            "given_name": claims.get("given_name", login.title()),
            "family_name": claims.get("family_name", "Tester"),
            "groups": list(groups),
        }
        self.accounts_file.write_text(json.dumps(self.accounts))

    def mint(self, claims: dict[str, Any], *, key=None, kid=None) -> str:
        """An ID token signed with the provider's key (or ``key``)."""
        return jwt.encode(
            claims,
            key or self.key,
            algorithm="RS256",
            headers={"kid": kid or self.kid},
        )


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        _unavailable(
            "node is missing: the SSO tests run a real OpenID provider on Node.js "
            "(apt-get install -y nodejs npm; then npm ci --prefix tests/oidc)."
        )
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        _unavailable(
            "tests/oidc/node_modules is missing: run `npm ci --prefix tests/oidc`."
        )
    directory = tmp_path_factory.mktemp("oidc")
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = uuid.uuid4().hex
    accounts_file = directory / "accounts.json"
    accounts_file.write_text("{}")
    redirect_uris = [f"http://{host}{CALLBACK_PATH}" for host in _LOOPBACK_HOSTS]
    logout_uris = [f"http://{host}/login/" for host in _LOOPBACK_HOSTS]
    config = {
        "issuer": issuer,
        "jwks": {"keys": [_private_jwk(key, kid)]},
        "accounts_file": str(accounts_file),
        "clients": [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": logout_uris,
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
            }
        ],
    }
    config_file = directory / "config.json"
    config_file.write_text(json.dumps(config))
    log = (directory / "provider.log").open("w")
    process = subprocess.Popen(
        [node, str(HERE / "provider.mjs"), str(config_file)],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        cwd=HERE,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 30)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("listening"):
            process.kill()
            raise RuntimeError(
                "the test OpenID provider did not start: "
                + (directory / "provider.log").read_text()[-2000:]
            )
        yield OidcProvider(issuer=issuer, key=key, kid=kid, accounts_file=accounts_file)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def sso(settings, oidc_provider):
    """The portal configured for the test provider (discovery cache cleared)."""
    from identity import discovery

    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_RP_CLIENT_ID = oidc_provider.client_id
    settings.OIDC_RP_CLIENT_SECRET = oidc_provider.client_secret
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.OIDC_PROVIDER_NAME = "Test IdP"
    discovery.forget()
    yield oidc_provider
    discovery.forget()
