"""The types of the events the server stores itself (a leaf module: the pipeline, the
visit-end job and the trend charts all name them, and import nothing else from each other).
The segment events are defined with the segment history (profiles), where rules read them too;
`scheduled-run` names the event of a scheduled workflow's runs (tracking.schedules), which is
never stored."""

from apps.profiles.services.segment_history import SEGMENT_ENTERED, SEGMENT_LEFT

PROFILE_CREATED = "profile-created"
SESSION_OPENED = "session-opened"
VISIT_STARTED = "visit-started"
VISIT_ENDED = "visit-ended"
SCHEDULED_RUN = "scheduled-run"

SYSTEM_EVENT_TYPES = (
    PROFILE_CREATED,
    SESSION_OPENED,
    VISIT_STARTED,
    VISIT_ENDED,
    SEGMENT_ENTERED,
    SEGMENT_LEFT,
)
