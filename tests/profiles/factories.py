"""Profiles and sessions (the canonical factories; other test packages reuse them), segments
and identification points."""

import factory
from django.utils import timezone

from apps.profiles.models import (
    Entity,
    IdentificationPoint,
    Profile,
    Segment,
    Session,
    empty_profile_data,
)


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    created = factory.LazyFunction(timezone.now)
    updated = factory.LazyFunction(timezone.now)
    data = factory.LazyFunction(empty_profile_data)
    metadata = factory.LazyFunction(lambda: {"time": {}, "fields": {}})


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    profile = factory.SubFactory(ProfileFactory)
    created = factory.LazyFunction(timezone.now)
    updated = factory.LazyFunction(timezone.now)


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    slug = factory.LazyAttribute(lambda segment: "-".join(segment.name.lower().split()))
    condition = "profile@stats.visits > 3"
    kind = Segment.Kind.LIVE


class IdentificationPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentificationPoint

    name = factory.Sequence(lambda n: f"Point {n}")
    event_type = "identification"
    fields = factory.LazyFunction(
        lambda: [{"profile": "data.contact.email.main", "event": "properties.email"}]
    )


class EntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entity

    id = factory.Sequence(lambda n: f"entity-{n}")
    type = "order"
    profile = factory.SubFactory(ProfileFactory)
    created = factory.LazyFunction(timezone.now)
    updated = factory.LazyFunction(timezone.now)
