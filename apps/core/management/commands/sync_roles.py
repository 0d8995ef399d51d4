from django.core.management.base import BaseCommand

from apps.core.role_sync import roles_sync


class Command(BaseCommand):
    help = (
        "Sets the groups Marketer, Developer, Maintainer and Analyst to the permissions of the "
        "roles table (apps/core/roles.py). `migrate` does this too, after every run."
    )

    def handle(self, *args, **options):
        for role, count in roles_sync().items():
            self.stdout.write(f"{role}: {count} permissions")
