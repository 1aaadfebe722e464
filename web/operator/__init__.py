"""The operator's commands, run as ``flask --app web <command>`` in a one-off process:
the dead letters (list, replay, delete), the streamers' leases (list, watch, release), the
queues' report and the intake's shard count, the revocations Twitch sent, and a new VAPID
key pair. They reach Redis, Celery and Twitch through :mod:`web.clients` like the views
do, and serve no request; :func:`init_app` adds them to the app's ``flask`` command.
"""

from __future__ import annotations

from flask import Flask

from web.operator.dead_letters import dead_letters_group
from web.operator.leases import leases_group
from web.operator.queues import intake_shards, queues
from web.operator.revocations import list_revocations
from web.operator.vapid_keys import vapid_keys


def init_app(app: Flask) -> None:
    """Add the operator commands to ``flask``."""
    app.cli.add_command(dead_letters_group)
    app.cli.add_command(list_revocations)
    app.cli.add_command(leases_group)
    app.cli.add_command(queues)
    app.cli.add_command(intake_shards)
    app.cli.add_command(vapid_keys)
