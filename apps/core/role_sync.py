"""Puts the roles table (apps.core.roles) into the database as groups and their permissions."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from apps.core.roles import ROLE_LIST, role_permissions


def roles_sync(*, group_model=Group, permission_model=Permission) -> dict[str, int]:
    """Makes each role's group hold exactly the table's permissions; answers how many each has.

    The data migration passes its historical models. A permission that does not exist yet (on a
    new database Django creates them after the migrations, in post_migrate) is skipped: the
    post_migrate sync that follows adds it."""
    wanted = {role.name: role_permissions(role.name) for role in ROLE_LIST}
    app_labels = {app_label for pairs in wanted.values() for app_label, _ in pairs}
    existing = {
        (app_label, codename): pk
        for pk, app_label, codename in permission_model.objects.filter(
            content_type__app_label__in=app_labels
        ).values_list("pk", "content_type__app_label", "codename")
    }
    counts = {}
    with transaction.atomic():
        for role in ROLE_LIST:
            group, _ = group_model.objects.get_or_create(name=role.name)
            ids = [existing[pair] for pair in wanted[role.name] if pair in existing]
            group.permissions.set(ids)
            counts[role.name] = len(ids)
    return counts
