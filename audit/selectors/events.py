"""Browsing the log: filters, keyset pages of events, one event with its
neighbours along the chain."""

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404

from audit.access import VIEW_PERMISSION, audit_access_check
from audit.canonical import GENESIS_HASH, format_timestamp
from audit.models import AuditEvent
from audit.selectors.chain import event_hash

PAGE_SIZE = 50

_LIST_COLUMNS = (
    "sequence",
    "timestamp",
    "actor_text",
    "action",
    "target_type",
    "target_id",
    "target_text",
    "scope",
)


@dataclass(frozen=True)
class AuditEventFilters:
    """What an auditor filters the log by; empty values filter nothing.

    ``action`` matches exactly, or as a prefix when it ends with a dot
    (``token.`` matches ``token.created`` and ``token.revoked``). ``since`` and
    ``until`` are inclusive, timezone-aware bounds on the event's timestamp.
    """

    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    scope: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def as_payload(self) -> dict[str, str]:
        """The filters as JSON for an audit event (only those that are set)."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "model": self.scope,
            "since": format_timestamp(self.since) if self.since else "",
            "until": format_timestamp(self.until) if self.until else "",
        }
        return {key: value for key, value in values.items() if value}


def filtered_events(filters: AuditEventFilters):
    events = AuditEvent.objects.all()
    if filters.actor:
        events = events.filter(actor_text=filters.actor)
    if filters.action.endswith("."):
        events = events.filter(action__startswith=filters.action)
    elif filters.action:
        events = events.filter(action=filters.action)
    if filters.target_type:
        events = events.filter(target_type=filters.target_type)
    if filters.target_id:
        events = events.filter(target_id=filters.target_id)
    if filters.scope:
        events = events.filter(scope=filters.scope)
    if filters.since is not None:
        events = events.filter(timestamp__gte=filters.since)
    if filters.until is not None:
        events = events.filter(timestamp__lte=filters.until)
    return events


@dataclass(frozen=True)
class AuditEventPage:
    """One page of events, newest first, with the keys of its neighbour pages.

    ``older_before`` is the ``before=`` value of the next older page and
    ``newer_after`` the ``after=`` value of the next newer page; None when there
    is no such page.
    """

    events: list[AuditEvent]
    older_before: int | None
    newer_after: int | None


def audit_event_list(
    *,
    actor,
    filters: AuditEventFilters,
    before: int | None = None,
    after: int | None = None,
    page_size: int = PAGE_SIZE,
) -> AuditEventPage:
    """Return one keyset page of matching events, newest first.

    ``before=n`` gives the newest matching events with a sequence below n,
    ``after=n`` the oldest ones above n (shown newest first); neither gives the
    newest page. Two queries whatever the page: the page itself (one row more
    than shown, to learn whether the page in its direction exists) and an
    EXISTS for the page in the other direction. Never an OFFSET, so the last
    page costs what the first does.
    """
    audit_access_check(actor=actor, permission=VIEW_PERMISSION)
    if before is not None and after is not None:
        raise ValueError("give before or after, not both")
    events = filtered_events(filters)
    listed = events.only(*_LIST_COLUMNS)
    if after is not None:
        rows = list(
            listed.filter(sequence__gt=after).order_by("sequence")[: page_size + 1]
        )
        has_newer = len(rows) > page_size
        rows = rows[:page_size]
        rows.reverse()
        if rows:
            newer_after = rows[0].sequence if has_newer else None
            oldest = rows[-1].sequence
            has_older = events.filter(sequence__lt=oldest).exists()
            older_before = oldest if has_older else None
        else:
            newer_after = None
            has_older = events.filter(sequence__lte=after).exists()
            older_before = after + 1 if has_older else None
        return AuditEventPage(rows, older_before, newer_after)

    page = listed if before is None else listed.filter(sequence__lt=before)
    rows = list(page.order_by("-sequence")[: page_size + 1])
    has_older = len(rows) > page_size
    rows = rows[:page_size]
    if rows:
        older_before = rows[-1].sequence if has_older else None
        newest = rows[0].sequence
        has_newer = before is not None and events.filter(sequence__gt=newest).exists()
        newer_after = newest if has_newer else None
    else:
        older_before = None
        has_newer = before is not None and events.filter(sequence__gte=before).exists()
        newer_after = before - 1 if has_newer else None
    return AuditEventPage(rows, older_before, newer_after)


@dataclass(frozen=True)
class AuditEventDetail:
    event: AuditEvent
    previous_sequence: int | None
    next_sequence: int | None
    # This event's stored hash equals the hash recomputed from its columns.
    hash_recomputes: bool
    # Its prev_hash equals the previous event's hash (None for the first event).
    links_to_previous: bool | None


def audit_event_get(*, actor, sequence: int) -> AuditEventDetail:
    """Return one event with its neighbours along the chain (two queries)."""
    audit_access_check(actor=actor, permission=VIEW_PERMISSION)
    event = AuditEvent.objects.filter(sequence=sequence).first()
    if event is None:
        raise Http404("No such audit event.")
    neighbours = dict(
        AuditEvent.objects.filter(
            sequence__in=[sequence - 1, sequence + 1]
        ).values_list("sequence", "hash")
    )
    previous_hash = neighbours.get(sequence - 1)
    if sequence == 1:
        links_to_previous = event.prev_hash == GENESIS_HASH
    else:
        links_to_previous = (
            None if previous_hash is None else previous_hash == event.prev_hash
        )
    return AuditEventDetail(
        event=event,
        previous_sequence=sequence - 1 if previous_hash is not None else None,
        next_sequence=sequence + 1 if sequence + 1 in neighbours else None,
        hash_recomputes=event_hash(event) == event.hash,
        links_to_previous=links_to_previous,
    )
