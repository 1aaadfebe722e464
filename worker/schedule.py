"""The beat schedule: periodic maintenance, run by exactly one beat process."""

BEAT_SCHEDULE = {
    "report-backlog": {"task": "maintenance.report_backlog", "schedule": 60.0},
}
