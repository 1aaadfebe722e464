"""Lua scripts that Redis runs by their SHA1 (``EVALSHA``) instead of their text.

A :class:`LuaScript` is redis-py's registered script (what ``register_script`` makes),
defined once at a module's top and called with the client or pipeline at hand:

- with a client, it sends ``EVALSHA``; when Redis answers ``NOSCRIPT`` (it restarted,
  failed over to a replica that never ran the script, or was flushed), it loads the
  script and sends it again, as redis-py does;
- with a pipeline, the first call of a script in it is sent as text (``EVAL``, which
  also leaves the script in Redis's cache) and the later ones by SHA1, which Redis
  then knows, since a pipeline's commands run in order on one connection. redis-py's
  own way for pipelines (ask ``SCRIPT EXISTS`` before sending) would add a round trip
  to every pipeline; this one adds none and cannot meet ``NOSCRIPT``.

So a script's text crosses the network once per pipeline, not with every call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from redis.client import Pipeline
from redis.commands.core import Script
from redis.typing import EncodableT, KeyT

_SENT = "_lua_scripts_sent"  # a pipeline's (command stack, SHA1s sent as text on it)


class LuaScript(Script):
    """A Lua script run by its SHA1 on whichever client or pipeline a call names."""

    def __init__(self, text: str):
        super().__init__(None, text.encode())  # type: ignore[arg-type]  # no client of its own
        self.text = text

    def __call__(
        self,
        keys: Sequence[KeyT] | None = None,
        args: Iterable[EncodableT] | None = None,
        client: Any = None,
    ) -> Any:
        """Run the script on ``client`` (a client or a pipeline) with ``keys`` and ``args``;
        on a pipeline, its answer comes with the pipeline's."""
        if client is None:
            raise TypeError("a LuaScript runs on the client or pipeline it is given")
        if isinstance(client, Pipeline):
            return self.queue(client, list(keys or []), list(args or []))
        return super().__call__(keys, args, client)

    def queue(self, pipe: Pipeline, keys: list, args: list) -> Pipeline:
        """Queue the script on ``pipe``: as text the first time since the pipeline was
        last sent, by SHA1 after that."""
        sent: tuple[list, set[str]] | None = getattr(pipe, _SENT, None)
        if sent is None or sent[0] is not pipe.command_stack:  # a new or reset pipeline
            sent = (pipe.command_stack, set())
            setattr(pipe, _SENT, sent)
        if self.sha in sent[1]:
            return cast(Pipeline, pipe.evalsha(self.sha, len(keys), *keys, *args))
        sent[1].add(self.sha)
        return cast(Pipeline, pipe.eval(self.text, len(keys), *keys, *args))
