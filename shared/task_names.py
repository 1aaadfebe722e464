"""Every Celery task's name, ``<module>.<function>`` after the worker module it lives in.

The web sends tasks by these names and so never imports worker code; beat's schedule
(:mod:`worker.schedule`) is built from them. A renamed task's messages still queued
under the old name would find no task: keep a name once tasks are queued under it.
"""

PUBLISH_STREAM_EVENT = "publish.stream_event"  # worker.publish.publish_stream_event_task

ENSURE_SUBSCRIPTIONS = "subscriptions.ensure_subscriptions"
CHECK_LEASE = "subscriptions.check_lease"
RENEW_LEASES = "subscriptions.renew_leases"
RELEASE_IDLE_LEASES = "subscriptions.release_idle_leases"
RECONCILE_SUBSCRIPTIONS = "subscriptions.reconcile_subscriptions"
VALIDATE_APP_TOKEN = "subscriptions.validate_app_token"
HANDLE_REVOCATION = "subscriptions.handle_revocation"

REFRESH_VIEWER_COUNTS = "viewer_counts.refresh_viewer_counts"

SEND_GO_LIVE_ALERTS = "push.send_go_live_alerts"
SETTLE_ALERT_LEASE = "alert_leases.settle_alert_lease"
HEAL_ALERT_LEASES = "alert_leases.heal_alert_leases"
