"""A local server that speaks the Pusher Channels HTTP API and WebSocket protocol.

Run it with ``python -m emulators.pusher``; see :mod:`emulators.pusher.config`
for the settings it reads from the environment.
"""

from emulators.pusher.config import Config, load_config
from emulators.pusher.server import create_app

__all__ = ["Config", "create_app", "load_config"]
