import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils.text import slugify

from approvals.demo import seed_approvals_demo
from audit.models import AuditCheckpoint
from audit.services import audit_checkpoint_create
from audit.signing import AuditSigningKeyUnavailable
from kernel import roles
from kernel.models import Team
from models_registry.demo import seed_registry_demo
from monitoring.demo import seed_monitoring_demo
from portal.accounts.services import USERNAME_PREFIX, service_account_create
from portal.services import (
    team_create,
    user_create,
    user_groups_set,
    user_password_set,
)

# username, role, team slug or None, display name
DEMO_PEOPLE = [
    ("dana", roles.DATA_SCIENTIST, "credit-risk", "Dana Scientist"),
    ("sam", roles.DATA_SCIENTIST, "recommendations", "Sam Scientist"),
    ("rey", roles.REVIEWER, None, "Rey Reviewer"),
    ("rio", roles.RISK_OFFICER, None, "Rio Risk-Officer"),
    ("val", roles.VALIDATOR, None, "Val Validator"),
    ("audrey", roles.AUDITOR, None, "Audrey Auditor"),
    ("pat", roles.PLATFORM_ADMIN, None, "Pat Platform-Admin"),
]
DEMO_TEAMS = [
    ("Credit Risk", "Scorecards and credit decision models."),
    ("Recommendations", "Ranking and recommendation models."),
]


class Command(BaseCommand):
    help = (
        "Create demo people (one per role), teams and records. Safe to run again: "
        "nothing is duplicated and existing passwords are kept (see --reset-passwords)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="give every demo user a new generated password",
        )

    def handle(self, *args, reset_passwords: bool, **options):
        credentials_path = _credentials_path()
        known = _read_credentials(credentials_path)
        user_model = get_user_model()
        with transaction.atomic():
            for name, description in DEMO_TEAMS:
                if not Team.objects.filter(name=name).exists():
                    team_create(actor=None, name=name, description=description)
            for username, role, team_slug, full_name in DEMO_PEOPLE:
                user = user_model.objects.filter(username=username).first()
                if user is None:
                    known[username] = secrets.token_urlsafe(12)
                    first, _, last = full_name.partition(" ")
                    user = user_create(
                        actor=None,
                        username=username,
                        email=f"{username}@gatehouse.example",
                        password=known[username],
                        is_staff=role == roles.PLATFORM_ADMIN,
                        first_name=first,
                        last_name=last,
                    )
                elif reset_passwords or username not in known:
                    known[username] = secrets.token_urlsafe(12)
                    user_password_set(actor=None, user=user, password=known[username])
                wanted = [Group.objects.get(name=role)]
                if team_slug:
                    wanted.append(Team.objects.get(slug=team_slug).group)
                current = set(user.groups.values_list("pk", flat=True))
                if not {group.pk for group in wanted} <= current:
                    user_groups_set(
                        actor=None,
                        user=user,
                        groups=list(user.groups.all()) + wanted,
                    )
            # Each app adds its demo records, in dependency order.
            summary = seed_registry_demo()
            summary += seed_approvals_demo()
            summary += seed_monitoring_demo()
            summary.append(_service_account_demo(user_model))
        checkpoint_line = _checkpoint_demo()
        descriptions = {
            username: _role_text(role, team_slug)
            for username, role, team_slug, _ in DEMO_PEOPLE
        }
        _write_credentials(credentials_path, known, descriptions)
        self.stdout.write("Demo records:")
        for line in summary:
            self.stdout.write(line)
        self.stdout.write(checkpoint_line)
        mail_line = _mail_line()
        if mail_line:
            self.stdout.write(mail_line)
        # Last, where a newcomer looks: who to sign in as, with which password.
        self.stdout.write("")
        self.stdout.write("Demo people (username / password / role):")
        for username, _, _, _ in DEMO_PEOPLE:
            self.stdout.write(
                f"  {username:<8} {known[username]:<18} {descriptions[username]}"
            )
        self.stdout.write(f"(also kept in {credentials_path})")
        self.stdout.write(f"Sign in at {settings.PORTAL_BASE_URL}/login/")


def _role_text(role: str, team_slug: str | None) -> str:
    label = roles.ROLE_LABELS.get(role, role)
    return f"{label}, team {team_slug}" if team_slug else label


def _service_account_demo(user_model) -> str:
    """A CI pipeline's account for the credit-risk team, made by the platform
    admin, so the service accounts page has one (its tokens are made there)."""
    name, team_slug = "credit-risk-ci", "credit-risk"
    if not user_model.objects.filter(username=USERNAME_PREFIX + name).exists():
        service_account_create(
            actor=user_model.objects.get(username="pat"),
            name=name,
            team_id=Team.objects.get(slug=team_slug).pk,
            description="The credit-risk team's training pipeline.",
        )
    return (
        f"  service accounts: {USERNAME_PREFIX}{name} (team {team_slug}; "
        "give it tokens at /service-accounts/)"
    )


def _checkpoint_demo() -> str:
    """Sign the chain's head, so the auditor's checkpoints page has one."""
    try:
        audit_checkpoint_create()
    except AuditSigningKeyUnavailable as error:
        return f"  audit: no signed checkpoint ({error.message})"
    newest = AuditCheckpoint.objects.order_by("-sequence").first()
    if newest is None:
        return "  audit: the log is empty, nothing to sign"
    return f"  audit: chain signed up to event {newest.sequence} (signed checkpoint)"


def _mail_line() -> str | None:
    """Where the demo's notification e-mails went, when they went to files."""
    if not settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        return None
    return (
        f"  e-mail: notifications are written to files in {settings.EMAIL_FILE_PATH}"
        " (set EMAIL_URL to send them)"
    )


def _credentials_path() -> Path:
    """Where the demo's passwords are kept: ``var/demo-credentials.txt`` for the
    embedded database, a file of its own for any other, so seeding a scratch
    database never overwrites the passwords of the demo's."""
    var = Path(settings.VAR_DIR)
    database = connection.settings_dict
    if connection.vendor == "sqlite" and Path(database["NAME"]).name == (
        "gatehouse.sqlite3"
    ):
        return var / "demo-credentials.txt"
    where = f"{connection.vendor}-{database.get('HOST') or 'local'}-{database['NAME']}"
    return var / f"demo-credentials-{slugify(where)}.txt"


def _read_credentials(path: Path) -> dict[str, str]:
    """Username → password, from lines ``username password [role …]``."""
    if not path.is_file():
        return {}
    pairs = (line.split(maxsplit=2) for line in path.read_text().splitlines() if line)
    return {pair[0]: pair[1] for pair in pairs if len(pair) >= 2}


def _write_credentials(
    path: Path, credentials: dict[str, str], descriptions: dict[str, str]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(
            f"{user} {password} {descriptions.get(user, '')}".rstrip() + "\n"
            for user, password in credentials.items()
        )
    )
    path.chmod(0o600)
