from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.api.keys import api_key_create
from apps.api.scopes import SCOPE_CHOICES


class Command(BaseCommand):
    help = (
        "Create an API key for the management API (/api/v1/) and print it once: it is stored "
        "hashed and cannot be shown again. Scopes: "
        + ", ".join(value for value, _ in SCOPE_CHOICES)
        + "."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who or what uses the key, e.g. 'CRM sync'.")
        parser.add_argument(
            "--scopes",
            nargs="+",
            required=True,
            metavar="SCOPE",
            help="e.g. --scopes profiles:read segments:write, or --scopes all",
        )
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="Default: never expires."
        )

    def handle(self, *args, name, scopes, expires_in_days, **options):
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be 1 or more (leave it out: no expiry).")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        try:
            key, plain = api_key_create(name=name, scopes=scopes, expires_at=expires_at)
        except ValueError as error:
            raise CommandError(f"{error} Known scopes: see --help.") from error
        ending = f", expires {expires_at:%Y-%m-%d %H:%M %Z}" if expires_at else ""
        self.stderr.write(
            f"API key '{key.name}' created (scopes: {', '.join(key.scopes)}{ending})."
        )
        self.stderr.write("Copy it now; it is not stored and will not be shown again:")
        self.stdout.write(plain)
