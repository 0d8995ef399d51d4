"""The types of the events the server stores itself (a leaf module: the pipeline, the
visit-end job and the trend charts all name them, and import nothing else from each other)."""

PROFILE_CREATED = "profile-created"
SESSION_OPENED = "session-opened"
VISIT_STARTED = "visit-started"
VISIT_ENDED = "visit-ended"

SYSTEM_EVENT_TYPES = (PROFILE_CREATED, SESSION_OPENED, VISIT_STARTED, VISIT_ENDED)
