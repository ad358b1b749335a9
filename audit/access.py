"""Who may read the audit log: global permissions only (the log is not per
model). Pages answer "not found" rather than "forbidden", so people without
audit rights are not told which audit pages exist."""

from django.http import Http404

VIEW_PERMISSION = "audit.view_auditevent"
EXPORT_PERMISSION = "audit.export_auditevent"
VERIFY_PERMISSION = "audit.verify_auditevent"
VIEW_VERIFICATIONS_PERMISSION = "audit.view_chainverification"
# Taking a signed checkpoint now vouches for the chain's head, as a verification
# does: the people who may run a verification (auditors, platform admins) may.
CHECKPOINT_PERMISSION = VERIFY_PERMISSION


def audit_access_check(*, actor, permission: str) -> None:
    """Raise Http404 unless the actor holds the global audit permission.

    Not found rather than forbidden: people without audit rights are not told
    which audit pages exist.
    """
    if not (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.has_perm(permission)
    ):
        raise Http404("No such page.")


def audit_actor_may(*, actor, permission: str) -> bool:
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.has_perm(permission)
    )
