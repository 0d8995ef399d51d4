from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_roles_after_migrate(sender, **kwargs) -> None:
    # post_migrate is sent once per app with models, and each app's permissions are created in
    # its own turn: sync after the last one's, when every permission of the roles table exists.
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if sender.label != with_models[-1].label:
        return
    from apps.core.role_sync import roles_sync

    roles_sync()


class CoreConfig(AppConfig):
    name = "apps.core"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="apps.core.roles_sync")
