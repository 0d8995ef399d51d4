"""Writes of the destinations app. Scheduling (profile and event deliveries), dispatching
(claim, send, record, recover) and the admin's manual operations."""

from apps.destinations.services.config import (
    destination_create,
    destination_update,
    resource_create,
    resource_credentials_replace,
)
from apps.destinations.services.dispatch import (
    attempt_result_record,
    claimed_delivery_send,
    deliveries_dispatch,
    deliveries_recover_stale,
    delivery_claim_next,
    delivery_process_next,
    destination_deliveries_send,
    destination_run_enqueue,
    retry_delay_seconds,
)
from apps.destinations.services.manual import (
    TestSendError,
    TestSendOutcome,
    deliveries_retry,
    destination_test_send,
)
from apps.destinations.services.scheduling import (
    event_deliveries_schedule,
    event_deliveries_schedule_on_commit,
    profile_deliveries_schedule,
)

__all__ = [
    "TestSendError",
    "TestSendOutcome",
    "attempt_result_record",
    "claimed_delivery_send",
    "deliveries_dispatch",
    "deliveries_recover_stale",
    "deliveries_retry",
    "delivery_claim_next",
    "delivery_process_next",
    "destination_create",
    "destination_deliveries_send",
    "destination_run_enqueue",
    "destination_test_send",
    "destination_update",
    "event_deliveries_schedule",
    "event_deliveries_schedule_on_commit",
    "profile_deliveries_schedule",
    "resource_create",
    "resource_credentials_replace",
    "retry_delay_seconds",
]
