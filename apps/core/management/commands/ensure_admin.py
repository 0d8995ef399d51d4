import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Makes sure a superuser exists and prints its login. The username comes from "
        "CDP_ADMIN_USERNAME (default admin), the password from CDP_ADMIN_PASSWORD or, when unset, "
        "is generated once and kept in var/admin-password."
    )

    def handle(self, *args, **options):
        username = os.environ.get("CDP_ADMIN_USERNAME", "admin")
        password_file = settings.CDP_VAR_DIR / "admin-password"
        password = os.environ.get("CDP_ADMIN_PASSWORD")
        if not password and password_file.exists():
            password = password_file.read_text().strip()
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            password = password or secrets.token_urlsafe(12)
            user_model.objects.create_superuser(username=username, email="", password=password)
            if not os.environ.get("CDP_ADMIN_PASSWORD"):
                settings.CDP_VAR_DIR.mkdir(parents=True, exist_ok=True)
                password_file.write_text(password)
                password_file.chmod(0o600)
            self.stdout.write(self.style.SUCCESS(f"Created the admin user {username!r}."))
        shown = password or "(unchanged; set CDP_ADMIN_PASSWORD to reset it)"
        if password and not user_model.objects.get(username=username).check_password(password):
            shown = "(changed in the admin since it was generated)"
        self.stdout.write(f"Admin login: username {username}  password {shown}")
