"""Writes of the destinations app: configuration, scheduling (profile and event deliveries),
dispatching (claim, send and record, recover, the runs), scheduled syncs of an audience and
the admin's manual operations."""

from apps.destinations.services.claim import delivery_claim_next
from apps.destinations.services.config import (
    destination_create,
    destination_delete,
    destination_update,
    resource_create,
    resource_credentials_replace,
)
from apps.destinations.services.connections import (
    ConnectionTestOutcome,
    resource_connection_test,
)
from apps.destinations.services.dispatch import (
    deliveries_dispatch,
    delivery_process_next,
    destination_deliveries_send,
    destination_run_mark_queued,
)
from apps.destinations.services.manual import (
    TestSendError,
    TestSendOutcome,
    deliveries_retry,
    destination_test_send,
)
from apps.destinations.services.recovery import deliveries_recover_stale
from apps.destinations.services.scheduling import (
    event_deliveries_schedule,
    event_destinations_matching,
    profile_deliveries_schedule,
    sync_deliveries_schedule,
)
from apps.destinations.services.send import (
    attempt_result_record,
    claimed_batch_send,
    claimed_delivery_send,
    retry_delay_seconds,
)
from apps.destinations.services.syncs import (
    SyncStart,
    destination_sync_run,
    destination_sync_schedule_apply,
    destination_sync_start,
    destination_sync_step,
    sync_runs_resume,
)

__all__ = [
    "SyncStart",
    "TestSendError",
    "TestSendOutcome",
    "attempt_result_record",
    "claimed_batch_send",
    "claimed_delivery_send",
    "deliveries_dispatch",
    "deliveries_recover_stale",
    "deliveries_retry",
    "delivery_claim_next",
    "delivery_process_next",
    "destination_create",
    "destination_delete",
    "destination_deliveries_send",
    "destination_run_mark_queued",
    "destination_sync_run",
    "destination_sync_schedule_apply",
    "destination_sync_start",
    "destination_sync_step",
    "destination_test_send",
    "destination_update",
    "event_deliveries_schedule",
    "event_destinations_matching",
    "profile_deliveries_schedule",
    "ConnectionTestOutcome",
    "resource_connection_test",
    "resource_create",
    "resource_credentials_replace",
    "retry_delay_seconds",
    "sync_deliveries_schedule",
    "sync_runs_resume",
]
