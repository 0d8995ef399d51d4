from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "apps.workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.workflows import signals

        signals.connect()
