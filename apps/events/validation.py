"""Event validation against the JSON schema of its event type (quarantine, issue 5).

The ingestion pipeline calls `event_validation_error` for each event while it builds rows: an
event that fails is stored with status `invalid` and the returned message, and runs no workflow.
It must be cheap: no query per event (compiled validators cached per process).
"""


def event_validation_error(*, event_type: str, properties: dict) -> str | None:
    """The validation message for an event that breaks its type's schema, else None."""
    return None
