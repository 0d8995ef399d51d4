import pytest

from apps.events.models import EventType, EventTypeMapping
from apps.events.predefined import predefined_event_types_install
from apps.events.registry import event_type_registry


@pytest.fixture
def predefined_types(db):
    """The predefined types (installed by a migration, but a transactional test elsewhere may
    have flushed them)."""
    predefined_event_types_install(event_type_model=EventType, mapping_model=EventTypeMapping)
    event_type_registry.cache_clear()
