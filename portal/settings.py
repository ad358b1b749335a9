"""Gatehouse settings: every value comes from the environment (see .env.example).

With no DATABASE_URL the portal runs on an embedded SQLite file; with no REDIS_URL
Celery runs tasks eagerly in the web process. Production and the test suite set both.
"""

import ipaddress
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from portal import beat

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Commands that only read the code (the migration check of CI and of developers'
# hooks) need no secret: they run with a throwaway key that signs nothing.
_CODE_ONLY_COMMAND = sys.argv[1:2] == ["makemigrations"]

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and _CODE_ONLY_COMMAND:
    SECRET_KEY = secrets.token_urlsafe(50)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a "
            "long random string (for example the output of `python -c "
            '"import secrets; print(secrets.token_urlsafe(64))"`), or set DEBUG=1 '
            "for a local development run."
        )
    # Development only: a fixed, obviously insecure key. DEBUG is on.
    SECRET_KEY = "django-insecure-gatehouse-development-key-not-for-production"  # noqa: S105

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "guardian",
    "axes",
    "audit",
    "kernel",
    "portal",
    "models_registry",
    "approvals",
    "monitoring",
    "mlflow_bridge",
    "identity",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # django-csp, its policy built once (kernel/csp.py).
    "kernel.csp.CachedPolicyCSPMiddleware",
    "kernel.guards.RefuseUnstorableQueryMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "audit.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Signs out a session idle for SESSION_IDLE_TIMEOUT_MINUTES (identity/).
    "identity.middleware.IdleSessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", 60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "gatehouse.sqlite3",
            # Serialise writers at BEGIN so concurrent requests wait instead of
            # failing with "database is locked" half way through a transaction.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The hottest reads run as server-side prepared statements on PostgreSQL
# (portal/db.py); 0 sends them unprepared (PgBouncer before 1.21). Django turns
# psycopg's prepared statements off unless OPTIONS names a threshold; its own
# queries bind parameters on the client and are never prepared either way.
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)
if DB_PREPARED_STATEMENTS and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)

# --- Auth -----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's password check; with LOCAL_LOGIN=0 only a break-glass superuser
    # (audited). Then OpenID Connect, which authenticates nobody without OIDC_ISSUER.
    "identity.backends.LocalPasswordBackend",
    "identity.backends.OidcBackend",
    "guardian.backends.ObjectPermissionBackend",
]
_VALIDATORS = "django.contrib.auth.password_validation."
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": _VALIDATORS + "UserAttributeSimilarityValidator"},
    {"NAME": _VALIDATORS + "MinimumLengthValidator"},
    {"NAME": _VALIDATORS + "CommonPasswordValidator"},
    {"NAME": _VALIDATORS + "NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# guardian: no anonymous user row; permissions belong to real people only.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False

# --- Login throttling (django-axes; kernel/throttling.py, docs/security.md) ------
# A username is locked after LOGIN_FAILURE_LIMIT failures (per username, and per
# client address and username) within LOGIN_COOLOFF_MINUTES, for that long after
# the last counted failure; bad API tokens lock out token guessing per address.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = "kernel.throttling.lockout_parameters"
# The same client address as the audit log (NUM_PROXIES hops of X-Forwarded-For).
AXES_CLIENT_IP_CALLABLE = "audit.middleware.client_ip"
# Attempts refused while locked do not push the end of the lockout further away
# (they are still counted in the audit log's summary).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
# Logins are audit events already; axes keeps only its failure counts.
AXES_DISABLE_ACCESS_LOG = True
# Lockouts are listed and lifted in the portal's own admin (audited), not axes'.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# Failed logins in the audit log: one event per (username, address) and window,
# a summary with the count when the window closes, at most this many pairs with
# events of their own per window (the rest in one overflow summary).
LOGIN_FAILURE_AUDIT_WINDOW_MINUTES = env.int(
    "LOGIN_FAILURE_AUDIT_WINDOW_MINUTES", default=15
)
LOGIN_FAILURE_AUDIT_KEYS_PER_WINDOW = env.int(
    "LOGIN_FAILURE_AUDIT_KEYS_PER_WINDOW", default=20
)
# The lockout answers are rendered by the login view, the MLflow bridge and the
# API's token authentication themselves (a styled page, MLflow's error format,
# the API's JSON), so axes' middleware, which would replace them, is left out.
SILENCED_SYSTEM_CHECKS = ["axes.W002"]

# --- Single sign-on and provisioning (identity/, docs/sso.md) -------------------
# OpenID Connect switches on when OIDC_ISSUER is set; the endpoints and keys come
# from the issuer's discovery document. The rest keeps mozilla-django-oidc's names.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="")
OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
if OIDC_ISSUER and not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
    raise ImproperlyConfigured(
        "OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too."
    )
OIDC_RP_SCOPES = env.str("OIDC_SCOPES", default="openid email profile")
# "Sign in with <name>" on the login page.
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="single sign-on")
OIDC_RP_SIGN_ALGO = env.str("OIDC_SIGN_ALGO", default="RS256")
OIDC_USERNAME_CLAIM = env.str("OIDC_USERNAME_CLAIM", default="preferred_username")
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
# Ask the userinfo endpoint for claims the ID token lacks (never overriding it).
OIDC_FETCH_USERINFO = env.bool("OIDC_FETCH_USERINFO", default=True)
# Link a first sign-in to an existing local account of the same user name (a
# migration aid; never superusers). Off: such a sign-in is refused.
OIDC_LINK_LOCAL_ACCOUNTS = env.bool("OIDC_LINK_LOCAL_ACCOUNTS", default=False)
OIDC_CLOCK_SKEW_SECONDS = env.int("OIDC_CLOCK_SKEW_SECONDS", default=60)
OIDC_DISCOVERY_TTL = env.int("OIDC_DISCOVERY_TTL", default=3600)
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10)
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_USE_NONCE = True
OIDC_TOKEN_USE_BASIC_AUTH = env.bool("OIDC_TOKEN_USE_BASIC_AUTH", default=True)
# Kept in the session as the id_token_hint of RP-initiated logout.
OIDC_STORE_ID_TOKEN = True
OIDC_AUTHENTICATION_CALLBACK_URL = "identity:oidc-callback"
# Local password sign-in (the login page's form, MLflow Basic auth). 0: only a
# superuser may still use a password (break-glass; audited and logged).
LOCAL_LOGIN = env.bool("LOCAL_LOGIN", default=True)
# A session unused this long ends (0: only SESSION_COOKIE_AGE bounds it).
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
# The bearer secret of the SCIM 2.0 endpoint /scim/v2/ (unset: no SCIM).
SCIM_TOKEN = env.str("SCIM_TOKEN", default="")

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or not env.bool("STATIC_MANIFEST", default=True)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security -------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp; docs/security.md): everything from the
# portal's own origin, no inline script or eval anywhere (chart figures travel as
# JSON data blocks drawn by static/js/, the API docs load their init script from
# /api/docs/?script), no plugins, no framing, forms post only back to the portal.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # plotly.js clears its colour bars with style="" (d3's attr): the hash of
        # the empty string allows exactly that no-op, and no other style
        # attribute (styles set through element.style are not inline CSS).
        "style-src-attr": [
            "'unsafe-hashes'",
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        ],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if OIDC_ISSUER:
    # Signing out posts to the portal, which redirects to the provider's
    # end-session endpoint: browsers apply form-action to that redirect too.
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(
        "/".join(OIDC_ISSUER.split("/", 3)[:3])
    )
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
        "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
    )
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    # /healthz is probed over plain HTTP by load balancers and container checks.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies sit in front of the portal: the client address for the
# audit log is taken that many hops from the right of X-Forwarded-For.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# Ed25519 key that signs audit checkpoints: base64 of the raw 32-byte private key,
# or a PEM private key. Unset: generated into var/ with DEBUG, refused without.
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY", default="")

# --- Email ----------------------------------------------------------------------
# Without EMAIL_URL, a development run (the demo) writes each e-mail to a file in
# var/mail/ rather than printing it among the server's output; otherwise the
# console, so nothing leaves a machine that was not told where to send mail.
if env.str("EMAIL_URL", default="") or not DEBUG:
    EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
    vars().update(EMAIL_CONFIG)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="gatehouse@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The portal's public address, for links in notification emails and webhook bodies.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
# Directories under which MLflow clients may register file:// sources that the
# portal reads to compute the artifact's sha256 (empty: never read local files).
MLFLOW_FILE_SOURCE_ROOTS = env.list("MLFLOW_FILE_SOURCE_ROOTS", default=[])

# --- Webhooks -------------------------------------------------------------------
# Attempts per webhook delivery before it is marked failed (retries back off
# 30 s, 60 s, 120 s, ... capped at one hour), and the HTTP timeout of each attempt.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5)
# Webhooks go to public addresses only: a URL whose host is or resolves to a
# loopback, private, link-local or otherwise non-global address is refused
# (cloud metadata services, the broker, the database). List the networks a
# receiver may live in, e.g. "10.20.0.0/16,fd00:1::/64", to allow them.
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
for _network in WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"WEBHOOK_ALLOWED_NETWORKS: {_network!r} is not a network ({_error})."
        ) from _error

# --- Redis and Celery -----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# The in-memory transport (eager tasks) is named with a host: kombu warns "No
# hostname was supplied" for a bare "memory://" each time it builds a producer.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or None
# Without a broker the quickstart runs every task in the web process.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# A task is acknowledged only once it has finished, and a task whose worker died
# is given back to the queue: tasks must therefore be idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged task is redelivered after this long; keep it above the
    # hard time limit so a slow task is not run twice while still running.
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 300,
    "socket_connect_timeout": 5,
}
CELERY_TIMEZONE = "UTC"
# The periodic tasks and why each runs: portal/beat.py.
CELERY_BEAT_SCHEDULE = beat.SCHEDULE
# Seconds between worker heartbeats, and the age after which /healthz calls the
# workers down.
WORKER_HEARTBEAT_INTERVAL = env.int("WORKER_HEARTBEAT_INTERVAL", default=15)
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=60)

# --- Lineage reports ------------------------------------------------------------
# Reports with more rows than this are prepared by a worker (the page follows
# its progress) instead of in the request.
REPORT_SYNC_MAX_ROWS = env.int("REPORT_SYNC_MAX_ROWS", default=5000)
# How many audit events the HTML and PDF reports list, newest first (JSON and
# CSV list all of them).
REPORT_INLINE_AUDIT_EVENTS = env.int("REPORT_INLINE_AUDIT_EVENTS", default=100)

# --- Monitoring -----------------------------------------------------------------
# Limits of one pushed batch: a bigger body answers 413, more rows or feature
# columns 400, each naming the limit. The ingestion API reads its body from the
# request stream up to MONITORING_MAX_BODY_BYTES itself, so Django's
# DATA_UPLOAD_MAX_MEMORY_SIZE (which guards form and request.body reads of
# every other page) stays at its default and does not cap batches.
MONITORING_MAX_BODY_BYTES = env.int("MONITORING_MAX_BODY_BYTES", default=64 * 2**20)
MONITORING_MAX_ROWS = env.int("MONITORING_MAX_ROWS", default=250_000)
MONITORING_MAX_FEATURES = env.int("MONITORING_MAX_FEATURES", default=200)
# Timestamps later than now plus this skew, or older than this many days, are
# refused (a window in the future would never close).
MONITORING_MAX_CLOCK_SKEW_SECONDS = env.int(
    "MONITORING_MAX_CLOCK_SKEW_SECONDS", default=3600
)
MONITORING_MAX_AGE_DAYS = env.int("MONITORING_MAX_AGE_DAYS", default=400)
# Retention (0 keeps forever), applied daily by monitoring.tasks.prune_monitoring:
# the stored payload of an applied batch is cleared this many days after it was
# applied (the windows keep its aggregates, the batch row its sha256 and size),
# and the label-join rows of predictions are deleted this many days after their
# hour; a label arriving later counts as unmatched.
MONITORING_PAYLOAD_RETENTION_DAYS = env.int(
    "MONITORING_PAYLOAD_RETENTION_DAYS", default=90
)
MONITORING_LABEL_JOIN_DAYS = env.int("MONITORING_LABEL_JOIN_DAYS", default=180)
# A pending batch is re-enqueued by the sweeper this long after its last enqueue;
# after this many attempts it is marked failed and kept for a person to inspect.
MONITORING_SWEEP_AFTER_SECONDS = env.int("MONITORING_SWEEP_AFTER_SECONDS", default=120)
MONITORING_APPLY_MAX_ATTEMPTS = env.int("MONITORING_APPLY_MAX_ATTEMPTS", default=8)
# A window is checked this long after it closes (late rows of the hour arrive).
MONITORING_CHECK_GRACE_SECONDS = env.int("MONITORING_CHECK_GRACE_SECONDS", default=300)
# Checks judge nothing on fewer values / labels than these.
MONITORING_MIN_COUNT = env.int("MONITORING_MIN_COUNT", default=30)
MONITORING_MIN_LABELS = env.int("MONITORING_MIN_LABELS", default=30)
# Latency: an error-budget burn rate at or above this is critical (above 1 warns).
MONITORING_LATENCY_CRITICAL_BURN = env.float(
    "MONITORING_LATENCY_CRITICAL_BURN", default=10.0
)
# KPIs: missing the target by more than this share of it is critical.
MONITORING_KPI_CRITICAL_MARGIN = env.float(
    "MONITORING_KPI_CRITICAL_MARGIN", default=0.1
)
# Fairness is judged over this many hours up to each window (small groups make
# an hour noisy).
MONITORING_FAIRNESS_HOURS = env.int("MONITORING_FAIRNESS_HOURS", default=24)
# Low-confidence predictions queued for human review, at most per window.
MONITORING_REVIEW_PER_WINDOW = env.int("MONITORING_REVIEW_PER_WINDOW", default=50)
# On high and critical risk models, acknowledging an alert of these checks
# opens a retrain request (per model: MonitoringConfig.retrain_checks).
MONITORING_RETRAIN_CHECKS = env.list(
    "MONITORING_RETRAIN_CHECKS", default=["concept_drift"]
)

# --- REST API -------------------------------------------------------------------
# MLflow routes answer bad input in MLflow's own error format, NUL included
# (mlflow_bridge.params.Params), so the kernel's query guard leaves them alone.
QUERY_CHECKED_BY_VIEW_PREFIXES = ("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kernel.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # The kernel's limits (kernel/guards.py): bounded pages, JSON nesting and
    # text limits, OPTIONS without serializers.
    "DEFAULT_PAGINATION_CLASS": "kernel.guards.BoundedLimitOffsetPagination",
    "DEFAULT_PARSER_CLASSES": [
        "kernel.guards.CheckedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_METADATA_CLASS": "kernel.guards.RouteMetadata",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "kernel.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gatehouse API",
    "DESCRIPTION": (
        "Model governance and approval portal. Authenticate with an API token "
        "(a person's, from /tokens/, or a service account's): `Authorization: "
        "Token <token>`. A token acts as its owner within its scopes; a call "
        "outside them answers 403 `missing_scope`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for the token scopes wherever a serializer lists them.
    "ENUM_NAME_OVERRIDES": {
        "ScopeEnum": "kernel.scopes.SCOPE_NAMES",
        "EntryKindEnum": "models_registry.models.EntryKind",
    },
    # The answers of the kernel's web layer (400, 401, 415) on every operation.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kernel.schema.document_shared_errors",
    ],
}

# --- Logging --------------------------------------------------------------------
# Django's own loggers print through the root's handler only (with DEBUG its
# default console handler would print each record a second time), and a refusal
# (403, 404) is one line: its exception is an answer, not a fault to trace.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"refusals_untraced": {"()": "kernel.errorpages.RefusalsUntraced"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["refusals_untraced"],
        }
    },
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # Tasks run in the web process (no broker): one "succeeded" line per task
        # would bury the demo's own output; failures are still logged.
        "celery.app.trace": {
            "level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# A refused CSRF check answers with the portal's styled 403 page (JSON under /api/).
CSRF_FAILURE_VIEW = "kernel.errorpages.csrf_failure"
