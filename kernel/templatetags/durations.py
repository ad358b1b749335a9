"""How long something took, as people say it: "under a second", "1 second",
"2 min 5 s", "1 h 4 min" (``timesince`` says "0 minutes" for anything under
a minute)."""

from datetime import datetime, timedelta

from django import template

register = template.Library()


def human_duration(elapsed: timedelta | None) -> str:
    if elapsed is None:
        return "—"
    seconds = elapsed.total_seconds()
    if seconds < 1:
        return "under a second"
    whole = round(seconds)
    if whole < 60:
        return "1 second" if whole == 1 else f"{whole} seconds"
    minutes, seconds_left = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {seconds_left} s" if seconds_left else f"{minutes} min"
    hours, minutes_left = divmod(minutes, 60)
    return f"{hours} h {minutes_left} min" if minutes_left else f"{hours} h"


@register.filter
def duration_until(start: datetime | None, end: datetime | None) -> str:
    """``{{ started_at|duration_until:finished_at }}``."""
    if start is None or end is None:
        return "—"
    return human_duration(end - start)
