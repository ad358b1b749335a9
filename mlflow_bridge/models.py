"""What MLflow clients keep that Gatehouse's registry has no place for.

Registered-model tags, aliases that are not governed, the configuration of the
governed aliases, and the MLflow facts of a version (run link, logged-model id,
where an imported version came from). Version tags live on
``models_registry.ModelVersion.tags``, so the portal and MLflow clients see one
set. Tables and invariants only; every write goes through
``mlflow_bridge.services``.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from approvals.models import Environment
from kernel.models import Team
from models_registry.models import EntryKind, ModelVersion, RegisteredModel

# MLflow's own limits (mlflow.utils.validation).
TAG_KEY_MAX_LENGTH = 250
TAG_VALUE_MAX_LENGTH = 100_000
ALIAS_MAX_LENGTH = 255


class RegisteredModelTag(models.Model):
    model = models.ForeignKey(
        RegisteredModel, on_delete=models.CASCADE, related_name="mlflow_tags"
    )
    key = models.CharField(max_length=TAG_KEY_MAX_LENGTH)
    value = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["model", "key"]
        constraints = [
            models.UniqueConstraint(fields=["model", "key"], name="mlflow_tag_once")
        ]

    def __str__(self):
        return f"{self.key}={self.value[:40]}"


class ModelAlias(models.Model):
    """An alias MLflow clients set freely (not a governed one)."""

    model = models.ForeignKey(
        RegisteredModel, on_delete=models.CASCADE, related_name="mlflow_aliases"
    )
    alias = models.CharField(max_length=ALIAS_MAX_LENGTH)
    # Always a version of ``model`` (checked by the service that writes it).
    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="mlflow_aliases"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["model", "alias"]
        constraints = [
            models.UniqueConstraint(fields=["model", "alias"], name="mlflow_alias_once")
        ]

    def __str__(self):
        return f"{self.alias} → {self.version}"


class GovernedAlias(models.Model):
    """An alias that follows the live full deployment of an environment.

    Setting it from an MLflow client opens a deployment request instead; reading
    it answers the version that is live there. Platform admins edit these in the
    Django admin.

    A rule applies to entries of one kind (or every kind, ``kind`` blank), and
    to every entry, to one team's entries (``team``) or to one entry
    (``model``). For an entry, the most specific rule for an alias wins: the
    entry's, then its team's, then the global one; at one level a rule for the
    entry's kind before one for every kind. A rule without an environment makes
    the alias free where it applies.
    """

    alias = models.CharField(max_length=ALIAS_MAX_LENGTH)
    kind = models.CharField(
        max_length=10, choices=EntryKind.choices, blank=True, default=""
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="governed_aliases",
    )
    model = models.ForeignKey(
        RegisteredModel,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="governed_aliases",
    )
    environment = models.ForeignKey(
        Environment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="governed_aliases",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["alias", "kind", "team", "model"]
        verbose_name_plural = "governed aliases"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(team__isnull=True) | models.Q(model__isnull=True),
                name="governed_alias_team_or_entry",
            ),
            models.UniqueConstraint(
                fields=["alias", "kind"],
                condition=models.Q(team__isnull=True, model__isnull=True),
                name="governed_alias_once_globally",
            ),
            models.UniqueConstraint(
                fields=["alias", "kind", "team"],
                condition=models.Q(team__isnull=False),
                name="governed_alias_once_per_team",
            ),
            models.UniqueConstraint(
                fields=["alias", "kind", "model"],
                condition=models.Q(model__isnull=False),
                name="governed_alias_once_per_entry",
            ),
        ]

    def __str__(self):
        target = self.environment or "free"
        return f"{self.alias} → {target}"

    @property
    def scope_label(self) -> str:
        kinds = EntryKind(self.kind).label.lower() + "s" if self.kind else "entries"
        if self.model_id:
            return f"the {kinds[:-1] if self.kind else 'entry'} {self.model}"
        if self.team_id:
            return f"{self.team}'s {kinds}"
        return f"every team's {kinds}"


class VersionLink(models.Model):
    """MLflow facts of a version that the registry's records do not hold."""

    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, related_name="mlflow_link"
    )
    # The MLflow run id when no Gatehouse training run could be recorded for it
    # (an imported version whose run lacked commit or environment); otherwise
    # the run id is the training run's external id.
    run_id = models.CharField(max_length=200, blank=True)
    # What was known of that run: params, metrics, dataset inputs.
    run_facts = models.JSONField(default=dict, blank=True)
    run_link = models.CharField(max_length=1000, blank=True)
    logged_model_id = models.CharField(max_length=200, blank=True)
    # Where an imported version came from: the tracking URI and its version there.
    imported_from = models.CharField(max_length=500, blank=True)
    imported_version = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["imported_from", "imported_version"])]

    def __str__(self):
        return f"MLflow link of {self.version_id}"
