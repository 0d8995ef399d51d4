"""Rule and workflow changes clear this process's routing cache at once (other processes
reload it within CDP_WORKFLOW_CACHE_SECONDS). Cache upkeep only: no business logic here."""

from django.db.models.signals import post_delete, post_save

from apps.workflows.models import Rule, Workflow
from apps.workflows.selectors import workflow_caches_clear


def _clear(**_kwargs) -> None:
    workflow_caches_clear()


def connect() -> None:
    for model in (Rule, Workflow):
        post_save.connect(_clear, sender=model, dispatch_uid=f"workflows-cache-{model.__name__}")
        post_delete.connect(
            _clear, sender=model, dispatch_uid=f"workflows-cache-del-{model.__name__}"
        )
