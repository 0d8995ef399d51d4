import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.core.role_sync import roles_sync
from apps.core.roles import ROLE_BY_SLUG


class Command(BaseCommand):
    help = (
        "Creates an admin user with a role (marketer, developer, maintainer or analyst) and "
        "prints its password (generated unless --password is given)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="The login name, e.g. anna.")
        parser.add_argument(
            "--role",
            required=True,
            choices=sorted(ROLE_BY_SLUG),
            help="; ".join(f"{slug}: {role.description}" for slug, role in ROLE_BY_SLUG.items()),
        )
        parser.add_argument("--email", default="", help="Optional, e.g. anna@example.com.")
        parser.add_argument("--password", help="Default: a generated one, printed once.")

    def handle(self, *args, username, role, email, password, **options):
        user_model = get_user_model()
        username = username.strip()
        if not username:
            raise CommandError("Give a username that is not empty.")
        if user_model.objects.filter(username=username).exists():
            raise CommandError(
                f"A user named {username!r} exists already: change its groups in the admin "
                "(System → Users), or pick another name."
            )
        generated = password is None
        password = secrets.token_urlsafe(12) if generated else password
        try:
            validate_password(password, user_model(username=username, email=email))
        except ValidationError as error:
            raise CommandError(f"The password is refused: {' '.join(error.messages)}") from None
        role_name = ROLE_BY_SLUG[role].name
        with transaction.atomic():
            if not Group.objects.filter(name=role_name).exists():
                roles_sync()
            user = user_model.objects.create_user(
                username=username, email=email, password=password, is_staff=True
            )
            user.groups.add(Group.objects.get(name=role_name))
        self.stdout.write(self.style.SUCCESS(f"Created {username!r} with the role {role_name}."))
        if generated:
            self.stdout.write(f"Password (shown once): {password}")
