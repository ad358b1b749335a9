// A real OpenID Connect provider for Gatehouse's SSO tests: the certified
// oidc-provider package (panva), configured for one confidential client with
// PKCE required, a groups claim, and RP-initiated logout.
//
//   node provider.mjs <config.json>
//
// config.json (written by tests/identity/oidc.py):
//   issuer         "http://127.0.0.1:<port>" (the port it listens on)
//   jwks           {"keys": [<private RSA JWK>]}: the tests hold the key too, to
//                  mint tokens whose only fault is the one under test
//   clients        oidc-provider client metadata
//   accounts_file  {"<login>": {"email", "given_name", "family_name", "groups"}},
//                  re-read at every sign-in so a test can change someone's groups
// Prints "listening <issuer>" on stdout once it accepts connections.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const port = Number(new URL(config.issuer).port);

function accounts() {
  return JSON.parse(readFileSync(config.accounts_file, "utf8"));
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>
${body}</main></body></html>`;
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: ["gatehouse-test-provider-cookie-key"] },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name", "preferred_username"],
    groups: ["groups"],
  },
  scopes: ["openid", "email", "profile", "groups"],
  // Claims in the ID token too, as Entra ID puts its groups there.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page(
          "Sign out of the test provider?",
          `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`,
        );
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page("Signed out", "<p>You are signed out of the test provider.</p>");
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = accounts()[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          preferred_username: id,
          email: account.email,
          email_verified: true,
          given_name: account.given_name,
          family_name: account.family_name,
          name: `${account.given_name ?? ""} ${account.family_name ?? ""}`.trim(),
          groups: account.groups ?? [],
        };
      },
    };
  },
});

// Tests run the portal on a random loopback port: accept any port there for
// the registered loopback URIs (as RFC 8252 does for native clients).
function loopbackMatch(value, allowed) {
  try {
    const url = new URL(value);
    if (!["127.0.0.1", "localhost"].includes(url.hostname)) return false;
    return allowed.some((entry) => {
      const registered = new URL(entry);
      return registered.hostname === url.hostname && registered.pathname === url.pathname
        && registered.search === url.search && registered.protocol === url.protocol;
    });
  } catch {
    return false;
  }
}
const { redirectUriAllowed, postLogoutRedirectUriAllowed } = provider.Client.prototype;
provider.Client.prototype.redirectUriAllowed = function allowed(value) {
  return redirectUriAllowed.call(this, value) || loopbackMatch(value, this.redirectUris);
};
provider.Client.prototype.postLogoutRedirectUriAllowed = function allowed(value) {
  return postLogoutRedirectUriAllowed.call(this, value)
    || loopbackMatch(value, this.postLogoutRedirectUris ?? []);
};

function loginForm(uid, error = "") {
  return page(
    "Test provider sign-in",
    `${error ? `<p role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">Username</label> <input id="login" name="login" autofocus>
<button type="submit">Continue</button></form>`,
  );
}

async function readForm(req) {
  let body = "";
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (req.method === "POST" && req.url.endsWith("/login")) {
    const login = (await readForm(req)).get("login") ?? "";
    if (!accounts()[login]) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(loginForm(uid, `No account named ${login}.`));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, {
      mergeWithLastSubmission: false,
    });
    return;
  }
  if (prompt.name === "login") {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(loginForm(uid));
    return;
  }
  // Consent: granted at once for the test client.
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(" "));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, {
    mergeWithLastSubmission: true,
  });
}

// Errors go to stderr (the fixture's provider.log), with their cause.
for (const event of ["server_error", "end_session.error", "grant.error", "authorization.error"]) {
  provider.on(event, (ctx, error) => {
    process.stderr.write(`${event}: ${error.message} ${error.error_description ?? ""} ${error.cause ?? ""}\n`);
  });
}

const handle = provider.callback();
const server = createServer((req, res) => {
  if (req.url.startsWith("/interaction/")) {
    interaction(req, res).catch((error) => {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end(`interaction failed: ${error.message}`);
    });
    return;
  }
  handle(req, res);
});
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening ${config.issuer}\n`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
