"""A committed profile change never loses what follows it: its live segments and the pending
delivery of each enabled profile destination are written in the writer's transaction (DESIGN
§3: "database side effects of a write happen in the writer's transaction; on_commit is for
broker messages only"), so a process that dies right after the commit loses nothing.

Each test runs the write in a subprocess connected to the test database. Its first on-commit
callback is `os._exit(9)`: the process dies after the commit, before any other callback runs.
"""

import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest

from apps.destinations.models import Delivery
from apps.profiles.models import Profile
from tests.destinations.factories import DestinationFactory
from tests.profiles.factories import ProfileFactory, SegmentFactory
from tests.support.celery_worker import ROOT, worker_environment

# The public write services the subprocess calls (the refactor may move them): edit in one
# place.
PROFILE_EDIT = "from apps.profiles.services.writes import profile_edit"
PROFILES_MERGE = "from apps.profiles.services.merge import profiles_merge"

DIED_AFTER_COMMIT = 9
SUBPROCESS_TIMEOUT_SECONDS = 120


def write_then_die(import_line: str, write: str, *args: str) -> None:
    """Run `write` (Python, with `args` as sys.argv[1:]) in a fresh process, inside an atomic
    block whose first on-commit callback ends the process; assert that it died that way."""
    script = textwrap.dedent(
        """
        import os
        import sys

        import django

        django.setup()

        from django.db import transaction

        {import_line}

        with transaction.atomic():
            transaction.on_commit(lambda: os._exit({code}))
            {write}
        sys.exit(0)
        """
    ).format(import_line=import_line, write=write, code=DIED_AFTER_COMMIT)
    process = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=worker_environment(),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
    )
    assert process.returncode == DIED_AFTER_COMMIT, (
        f"the writer exited with {process.returncode}, not {DIED_AFTER_COMMIT} right after its "
        f"commit:\n{process.stdout}\n{process.stderr}"
    )


def edit_plan_then_die(profile_id: str, plan: str) -> None:
    write_then_die(
        PROFILE_EDIT,
        "profile_edit(profile_id=sys.argv[1], changes={'traits': {'plan': sys.argv[2]}}, "
        "actor='durability test')",
        profile_id,
        plan,
    )


def pending_deliveries(destination, profile_id: str) -> list[Delivery]:
    return list(
        Delivery.objects.filter(
            destination=destination, profile_id=profile_id, status=Delivery.Status.PENDING
        )
    )


@pytest.mark.django_db(transaction=True)
def test_a_profile_change_whose_process_dies_right_after_commit_still_gets_its_delivery():
    destination = DestinationFactory(delay_seconds=30, max_delay_seconds=300)
    ProfileFactory(id="ann", traits={"plan": "free"})

    edit_plan_then_die("ann", "pro")

    profile = Profile.objects.get(pk="ann")
    assert profile.traits == {"plan": "pro"}  # the change is committed
    deliveries = pending_deliveries(destination, "ann")
    assert len(deliveries) == 1, "no pending delivery for the committed change"
    delivery = deliveries[0]
    assert delivery.event_id is None
    assert delivery.changed_fields == ["traits.plan"]
    assert delivery.due_at == delivery.first_change_at + timedelta(
        seconds=destination.delay_seconds
    )
    assert Delivery.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_profile_change_whose_process_dies_right_after_commit_still_joins_its_live_segment():
    destination = DestinationFactory()
    SegmentFactory(name="Pro plan", condition='profile@traits.plan == "pro"')
    SegmentFactory(name="Free plan", condition='profile@traits.plan == "free"')
    ProfileFactory(id="ann", traits={"plan": "free"}, segments=["free-plan", "by-hand"])

    edit_plan_then_die("ann", "pro")

    profile = Profile.objects.get(pk="ann")
    assert profile.traits == {"plan": "pro"}  # the change is committed
    assert profile.segments == ["by-hand", "pro-plan"]
    deliveries = pending_deliveries(destination, "ann")
    assert len(deliveries) == 1, "no pending delivery for the committed change"
    # The segments changed too: whether that is reported alongside is the writer's choice.
    assert "traits.plan" in deliveries[0].changed_fields
    assert set(deliveries[0].changed_fields) <= {"traits.plan", "segments"}
    assert Delivery.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_merge_whose_process_dies_right_after_commit_still_gets_its_delivery_and_segment():
    destination = DestinationFactory()
    SegmentFactory(name="Pro plan", condition='profile@traits.plan == "pro"')
    ProfileFactory(id="laptop", traits={"plan": "free"})
    ProfileFactory(id="phone", traits={"plan": "pro"})

    write_then_die(
        PROFILES_MERGE,
        "profiles_merge(profile_ids=sys.argv[1:], reason='same person', actor='durability test')",
        "laptop",
        "phone",
    )

    assert list(Profile.objects.values_list("pk", flat=True)) == ["laptop"]  # committed
    survivor = Profile.objects.get()
    assert (survivor.ids, survivor.traits) == (["phone"], {"plan": "pro"})
    assert survivor.segments == ["pro-plan"]
    deliveries = pending_deliveries(destination, "laptop")
    assert len(deliveries) == 1, "no pending delivery for the committed merge"
    assert any(
        field == "traits" or field.startswith("traits.") for field in deliveries[0].changed_fields
    ), deliveries[0].changed_fields
    assert Delivery.objects.count() == 1
