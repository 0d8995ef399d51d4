"""The profile page's "Segment history" section: the segments the person entered and left,
newest first (apps.profiles.services.segment_history records them). A `person_sections` entry
that the change page renders like the sections upper apps add."""

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from apps.profiles.models import SegmentTransition

SEGMENT_HISTORY_SHOWN = 50
# Older changes are counted up to this many (through the (profile, -at) index), then "more".
OLDER_COUNT_CAP = 10_000
_ENTERED = mark_safe('<strong style="color: #2a7d2a">entered</strong>')
_LEFT = mark_safe('<span style="color: #b24a1e">left</span>')


def segment_history_section(profile_id: str) -> dict:
    history = SegmentTransition.objects.filter(profile_id=profile_id).order_by("-at", "-id")
    rows = list(history[: SEGMENT_HISTORY_SHOWN + 1])
    note = ""
    if len(rows) > SEGMENT_HISTORY_SHOWN:
        older = history[SEGMENT_HISTORY_SHOWN : SEGMENT_HISTORY_SHOWN + OLDER_COUNT_CAP + 1]
        count = older.count()
        note = (
            f"{count:,} older change(s) not shown."
            if count <= OLDER_COUNT_CAP
            else f"More than {OLDER_COUNT_CAP:,} older changes not shown."
        )
    return {
        "key": "segment-history",
        "title": "Segment history (newest first)",
        "columns": ["when", "change", "segment", "why"],
        "rows": [_row(transition) for transition in rows[:SEGMENT_HISTORY_SHOWN]],
        "empty": "This person never entered or left a segment.",
        "note": note,
    }


def _row(transition: SegmentTransition) -> tuple:
    when = date_format(timezone.localtime(transition.at), "j M Y, H:i")
    change = _ENTERED if transition.entered else _LEFT
    return (
        format_html('<span title="{}">{}</span>', transition.at.isoformat(), when),
        change,
        transition.segment_name,
        transition.get_cause_display(),
    )
