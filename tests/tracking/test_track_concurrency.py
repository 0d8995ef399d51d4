import threading

import pytest
from django.db import connection
from django.test import Client

from apps.events.models import Event
from apps.profiles.models import Profile, Session
from apps.sources.services import event_source_create
from tests.tracking.conftest import CHROME_UA, payload


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_requests_of_one_session_make_one_profile():
    event_source_create(name="Web", source_id="web-source")
    barrier = threading.Barrier(4)
    answers: list[dict] = []

    def first_visit() -> None:
        client = Client(HTTP_USER_AGENT=CHROME_UA)
        barrier.wait()
        response = client.post(
            "/track",
            data=payload(session="same-session", events=[{"type": "page-view"}]),
            content_type="application/json",
        )
        answers.append(response.json())
        connection.close()

    threads = [threading.Thread(target=first_visit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 4
    session = Session.objects.get(pk="same-session")
    assert {answer["profile"]["id"] for answer in answers} == {session.profile_id}
    assert list(Profile.objects.values_list("pk", flat=True)) == [session.profile_id]
    assert Event.objects.filter(type="page-view").count() == 4
    assert Event.objects.filter(type="session-opened").count() == 1
    assert Event.objects.filter(type="profile-created").count() == 1
    assert Profile.objects.get().visit_count == 1
