from django.core.management.base import BaseCommand

from apps.tracking.snippet import tracker_build


class Command(BaseCommand):
    help = (
        "Build the browser tracker from static/tracker/src/ into static/tracker/build/ "
        "(readable and minified; pure Python). Served under /tracker/."
    )

    def handle(self, *args, **options):
        written = tracker_build()
        for name, path in written.items():
            self.stdout.write(f"{name}: {path.stat().st_size} bytes")
        self.stdout.write(self.style.SUCCESS(f"Tracker built in {written['index.js'].parent}"))
