from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.db.models.fields.json import KT
from django.db.models.functions import Lower
from django.urls import reverse

from apps.profiles.models import ErasureRecord, Profile
from apps.profiles.selectors import profile_find, profile_related_counts
from apps.profiles.services.erasure import (
    ProfileNotFound,
    erasure_counts,
    erasure_counts_text,
    erasure_proceed,
    profile_forget,
)
from apps.profiles.services.identifiers import identifier_holders
from apps.profiles.tasks import profile_erasure_start

# While waiting, progress is printed after each run of batches this long.
PROGRESS_SECONDS = 2.0
MATCHES_SHOWN = 10


class Command(BaseCommand):
    help = (
        "Erases a person: the profile (found by its id or an id merged into it, its e-mail, its "
        "primary id, or a value at --identifier), its sessions, events, workflow runs, "
        "deliveries and merge records, and sends deletion requests to the destinations that "
        "forward erasures. Keeps an erasure record with the ids, the times and the counts, and "
        "no personal data. The ids never resolve again, from the start of the erasure. The "
        "erasure runs in the background (the Celery worker) unless --wait is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "person",
            help="The profile id (or an id merged into it), its e-mail (data.contact.email."
            "main, any case) or its primary id.",
        )
        parser.add_argument(
            "--identifier",
            metavar="PATH",
            help="Find the profile by the value at this profile path instead, e.g. "
            "data.identifier.id or traits.customer_number.",
        )
        parser.add_argument(
            "--wait",
            action="store_true",
            help="Erase in this process, printing progress, and return when it is done.",
        )
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask for confirmation (for scripts)."
        )
        parser.add_argument(
            "--actor",
            default="manage.py forget_profile",
            help="Who asked for the erasure, kept on the erasure record.",
        )

    def handle(self, *args, person, identifier, wait, yes, actor, **options):
        profile_id = self._profile_id(person.strip(), identifier)
        if not yes:
            profile = profile_find(profile_id=profile_id)
            if profile is not None:
                counts = profile_related_counts(profile_id=profile.pk)
                self.stdout.write(
                    f"Profile {profile.pk} with {counts['sessions'].label} session(s) and "
                    f"{counts['events'].label} event(s) will be erased for good."
                )
                answer = input("Type 'yes' to erase it: ")
                if answer.strip().lower() != "yes":
                    raise CommandError("Not erased.")
        try:
            if wait:
                # Run here, not enqueued: a background run would share the batches safely, but
                # there may be no worker.
                record = profile_forget(profile_id=profile_id, actor=actor)
            else:
                record = profile_erasure_start(profile_id=profile_id, actor=actor)
        except ProfileNotFound as error:
            raise CommandError(str(error)) from None
        if not wait:
            url = reverse("admin:profiles_erasurerecord_change", args=[record.pk])
            self.stdout.write(
                f"Erasure {record.pk} of profile {record.profile_ids[0]} started in the "
                f"background; its ids are forgotten from now on. Follow it in the admin at "
                f"{url}, or run this command with --wait."
            )
            return
        while not erasure_proceed(erasure_id=record.pk, seconds=PROGRESS_SECONDS):
            record.refresh_from_db()
            self.stdout.write(f"… {erasure_counts_text(record) or 'starting'}")
        record.refresh_from_db()
        self._report(record)

    def _profile_id(self, person: str, identifier: str | None) -> str:
        """The id of the one profile the operator named (an id is taken as is: an unknown or
        already erased one gets its clear message from the erasure)."""
        if identifier:
            matches = identifier_holders([identifier], [person])
        elif (
            profile_find(profile_id=person) is not None
            or ErasureRecord.objects.filter(profile_ids__contains=[person]).exists()
        ):
            return person
        else:
            # Each branch through an index: lower(e-mail main); primary_id is rare and short.
            matches = Profile.objects.alias(email_main=Lower(KT("data__contact__email__main")))
            matches = matches.filter(Q(email_main=person.lower()) | Q(primary_id=person))
        found = list(matches.values_list("pk", flat=True)[: MATCHES_SHOWN + 1])
        if not found:
            if identifier:
                raise CommandError(f"No profile has {person!r} at {identifier}.")
            raise CommandError(
                f"No profile has the id {person!r} (nor merged it earlier), nor that e-mail or "
                "primary id."
            )
        if len(found) > 1:
            shown = ", ".join(found[:MATCHES_SHOWN]) + (", …" if len(found) > MATCHES_SHOWN else "")
            raise CommandError(
                f"{person!r} names {len(found) if len(found) <= MATCHES_SHOWN else 'more'} "
                f"profiles ({shown}): name one by its id."
            )
        return found[0]

    def _report(self, record: ErasureRecord) -> None:
        self.stdout.write(f"Erased profile {record.profile_ids[0]}.")
        if len(record.profile_ids) > 1:
            self.stdout.write(f"Merged ids erased with it: {', '.join(record.profile_ids[1:])}")
        for name, count in erasure_counts(record):
            self.stdout.write(f"  {name.replace('_', ' ')}: {count}")
        if record.deletion_requests:
            self.stdout.write(
                f"Deletion requests queued for destinations: {record.deletion_requests}"
            )
        self.stdout.write(f"Erasure record: {record.pk}")
