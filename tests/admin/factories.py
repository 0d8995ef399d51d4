"""The shared factories, with events as the admin tests want them: waiting for a worker,
stored at the time they happened."""

import factory

from apps.events.models import Event
from tests.events import factories as events
from tests.profiles.factories import ProfileFactory, SessionFactory

__all__ = ["EventFactory", "ProfileFactory", "SessionFactory"]


class EventFactory(events.EventFactory):
    inserted = factory.SelfAttribute("time")
    status = Event.Status.COLLECTED
