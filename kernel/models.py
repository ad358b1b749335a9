from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Team(TimeStampedModel):
    """A team owns models. Its members are the users of its group."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="team")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ServiceAccount(TimeStampedModel):
    """A non-human principal owned by a team (a CI pipeline, a serving system).

    It is a user row (so tokens, permissions and the audit log treat it like
    anyone) with an unusable password, never a session: it calls the API with
    its tokens only, and approves nothing (approvals/access.py). Deactivating
    it (``user.is_active``) stops its tokens at once.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="service_account",
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="service_accounts"
    )
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["team__name", "user__username"]

    def __str__(self):
        return self.user.get_username()


class ApiToken(models.Model):
    """An API token of a person or a service account. Only a SHA-256 digest of
    the secret is stored.

    The plaintext (``gh_<prefix>_<secret>``) is shown once, when it is created.
    A revoked token is kept, so the audit trail can always name it. ``scopes``
    (kernel/scopes.py, space-separated) bound what the token may call; the
    owner's roles and permissions still decide within them.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    @property
    def scope_list(self):
        """The token's scopes (kernel.scopes.Scope), in the list's order."""
        from kernel.scopes import SCOPES

        held = self.scope_set
        return [scope for scope in SCOPES if scope.name in held]


class LoginFailureWindow(models.Model):
    """One fixed window of failed logins (LOGIN_FAILURE_AUDIT_WINDOW_MINUTES
    long, aligned to the epoch), with how many (username, address) pairs it has
    given audit events of their own. Its row lock serialises the counting of
    one window's failures. See portal/login_failures.py."""

    start = models.DateTimeField(unique=True)
    audited_keys = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-start"]

    def __str__(self):
        return f"login failures from {self.start:%Y-%m-%d %H:%M}"


class LoginFailureCount(models.Model):
    """Failed logins of one username from one client address in one window.

    API token failures count under the username ``(api token)``, which no
    account can have (usernames take letters, digits and ``@.+-_`` only).
    """

    window = models.ForeignKey(
        LoginFailureWindow, on_delete=models.CASCADE, related_name="counts"
    )
    username = models.CharField(max_length=150)
    # "" when the address is unknown.
    ip = models.CharField(max_length=45, blank=True)
    failures = models.PositiveIntegerField(default=0)
    # This pair has its own audit events in this window (within the budget);
    # otherwise it is counted in the window's overflow summary.
    is_audited = models.BooleanField(default=False)
    first_recorded = models.BooleanField(default=False)
    lockout_recorded = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["window", "username", "ip"], name="login_failure_count_key"
            )
        ]

    def __str__(self):
        return f"{self.username} from {self.ip or '?'}: {self.failures}"
