"""The beat schedule, run by exactly one beat process; reconciles once at start too."""

from __future__ import annotations

from celery.signals import beat_init

from shared.settings import Settings

APP_TOKEN_CHECK_SECONDS = 3600


def beat_schedule(settings: Settings) -> dict:
    """Periodic tasks, with the periods the settings give."""
    every_check = float(settings.lease_check_interval)
    return {
        "renew-leases": {"task": "maintenance.renew_leases", "schedule": every_check},
        "release-idle-leases": {"task": "maintenance.release_idle_leases",
                                "schedule": every_check},
        "reconcile-subscriptions": {"task": "maintenance.reconcile_subscriptions",
                                    "schedule": float(settings.reconcile_interval)},
        "validate-app-token": {"task": "maintenance.validate_app_token",
                               "schedule": float(APP_TOKEN_CHECK_SECONDS)},
        "report-backlog": {"task": "maintenance.report_backlog", "schedule": 60.0},
    }


@beat_init.connect
def reconcile_at_start(sender=None, **_):
    """Beat starting (after a deploy or a crash): reconcile with Twitch at once."""
    sender.app.send_task("maintenance.reconcile_subscriptions")
