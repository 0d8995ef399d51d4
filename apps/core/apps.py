from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_roles_after_migrate(sender, using="default", **kwargs) -> None:
    # post_migrate is sent once per app, and each app's permissions are created when its own
    # turn comes: sync after the last app's, when every permission of the roles table exists.
    if sender.label != list(apps.get_app_configs())[-1].label:
        return
    from apps.core.role_sync import roles_sync

    roles_sync()


class CoreConfig(AppConfig):
    name = "apps.core"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="apps.core.roles_sync")
