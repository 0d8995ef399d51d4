from django.core.management.base import BaseCommand, CommandError

from apps.profiles.selectors import profile_find, profile_related_counts
from apps.profiles.services.erasure import ProfileNotFound, profile_forget


class Command(BaseCommand):
    help = (
        "Erases a person: the profile (found by its id or an id merged into it), its sessions, "
        "events, workflow runs, deliveries and merge records. Keeps an erasure record with the "
        "ids, the time and the counts, and no personal data. The ids never resolve again."
    )

    def add_arguments(self, parser):
        parser.add_argument("profile_id", help="The profile id, or an id merged into it.")
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask for confirmation (for scripts)."
        )
        parser.add_argument(
            "--actor",
            default="manage.py forget_profile",
            help="Who asked for the erasure, kept on the erasure record.",
        )

    def handle(self, *args, profile_id, yes, actor, **options):
        profile_id = profile_id.strip()
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
            record = profile_forget(profile_id=profile_id, actor=actor)
        except ProfileNotFound as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Erased profile {record.profile_ids[0]}.")
        if len(record.profile_ids) > 1:
            self.stdout.write(f"Merged ids erased with it: {', '.join(record.profile_ids[1:])}")
        for name, count in record.deleted.items():
            self.stdout.write(f"  {name.replace('_', ' ')}: {count}")
        self.stdout.write(f"Erasure record: {record.pk}")
