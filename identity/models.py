"""Who a person is at the identity provider, how IdP groups map to roles and
teams, the SCIM groups the IdP pushes, and the sessions a person holds (so that
deactivating them ends those sessions at once)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from kernel.models import Team, TimeStampedModel
from kernel.roles import ROLE_LABELS


class ExternalIdentity(TimeStampedModel):
    """The IdP's name for one Gatehouse user.

    ``issuer`` and ``subject`` are the ID token's ``iss`` and ``sub``: the only
    stable key of a person at an OpenID provider. They are empty for a user the
    IdP provisioned through SCIM who has not signed in yet; the first sign-in
    with the same user name fills them. ``scim_id`` is the SCIM resource id the
    IdP addresses the user by.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="external_identity",
    )
    issuer = models.CharField(max_length=300, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The IdP's own id of the user (SCIM externalId), if it sent one.
    external_id = models.CharField(max_length=255, blank=True)
    # The IdP groups of the last sign-in or SCIM update: what the roles and
    # teams were last computed from.
    groups = models.JSONField(default=list, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "external identity"
        verbose_name_plural = "external identities"
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "subject"],
                condition=~Q(subject=""),
                name="identity_issuer_subject_unique",
            )
        ]

    def __str__(self):
        return f"{self.subject or self.external_id or self.scim_id} → {self.user}"


class GroupMapping(TimeStampedModel):
    """One IdP group (a value of the groups claim, or a SCIM group's name or
    external id) granting one role or one team membership."""

    claim = models.CharField(
        "IdP group",
        max_length=255,
        help_text=(
            "A value of the groups claim: a group name, or (Entra ID) its object id."
        ),
    )
    role = models.CharField(
        max_length=32,
        blank=True,
        choices=sorted(ROLE_LABELS.items(), key=lambda item: item[1]),
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["claim", "role", "team__name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(role="") & Q(team__isnull=False))
                | (~Q(role="") & Q(team__isnull=True)),
                name="identity_mapping_role_xor_team",
            ),
            models.UniqueConstraint(
                fields=["claim", "role"],
                condition=~Q(role=""),
                name="identity_mapping_claim_role_unique",
            ),
            models.UniqueConstraint(
                fields=["claim", "team"],
                condition=Q(team__isnull=False),
                name="identity_mapping_claim_team_unique",
            ),
        ]

    def __str__(self):
        granted = ROLE_LABELS.get(self.role, self.role) if self.role else self.team
        return f"{self.claim} → {granted}"


class ScimGroup(TimeStampedModel):
    """A group the IdP pushed through SCIM. Its members' roles and teams are
    computed from their groups' names and external ids, like the claim of a
    sign-in."""

    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=255, unique=True)
    external_id = models.CharField(max_length=255, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="scim_groups"
    )

    class Meta:
        ordering = ["display_name"]
        verbose_name = "SCIM group"

    def __str__(self):
        return self.display_name

    def claim_values(self) -> set[str]:
        return {value for value in (self.display_name, self.external_id) if value}


class UserSession(models.Model):
    """A session a person signed in to: deactivating them deletes these."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self):
        return f"session of {self.user_id} from {self.created_at:%Y-%m-%d %H:%M}"
