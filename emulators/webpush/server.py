"""The aiohttp application: the push endpoint and the tests' control endpoints.

- ``POST /push/<id>``: a push for the subscription ``<id>`` (any id is one): checked to
  be ``Content-Encoding: aes128gcm`` with a TTL, a body of at most 4096 bytes and a valid
  VAPID header; answered 201, or as ``/control/answer`` said for that id;
- ``POST /control/answer`` ``{"id", "status": 201|403|404|410|429, "retry_after": s,
  "delay": s, "times": n}``: answer the next ``n`` pushes to ``id`` (every one when
  ``times`` is absent) so, ``delay`` seconds late (a slow service);
- ``GET /control/received`` (``?id=`` for one): every push taken, oldest first, each
  ``{"id", "status", "headers", "body"}`` (header names lower-case, the body base64),
  refused ones too;
- ``POST /control/reset``: forget what was received and every answer asked for.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import uuid

from aiohttp import web

from emulators.webpush.vapid_check import VapidRefused, check_vapid

log = logging.getLogger("emulators.webpush")
MAX_BODY = 4096
ON_DEMAND = (201, 403, 404, 410, 429)
RECEIVED = web.AppKey("received", list)
ANSWERS = web.AppKey("answers", dict)


def create_app() -> web.Application:
    """The stand-in's application, with nothing received."""
    app = web.Application(client_max_size=64 * 1024)
    app[RECEIVED], app[ANSWERS] = [], {}
    app.router.add_post("/push/{id}", push)
    app.router.add_post("/control/answer", answer_on_demand)
    app.router.add_get("/control/received", received)
    app.router.add_post("/control/reset", reset)
    return app


async def push(request: web.Request) -> web.Response:
    """Take one push, as a push service would."""
    body = await request.read()
    response = refusal(request, body) or await demanded(request) or created()
    request.app[RECEIVED].append(
        {
            "id": request.match_info["id"],
            "status": response.status,
            "received_at": time.time(),
            "headers": {name.lower(): value for name, value in request.headers.items()},
            "body": base64.b64encode(body).decode(),
        }
    )
    log.info("push to %s: %d", request.match_info["id"], response.status)
    return response


def refusal(request: web.Request, body: bytes) -> web.Response | None:
    """The answer to a malformed push, or None when it is well formed."""
    if request.headers.get("Content-Encoding") != "aes128gcm":
        return web.Response(status=415, text="Content-Encoding must be aes128gcm")
    if not request.headers.get("TTL", "").isdigit():
        return web.Response(status=400, text="TTL is required")
    if not 21 + 65 <= len(body) <= MAX_BODY or body[20] != 65:
        return web.Response(status=413 if len(body) > MAX_BODY else 400, text="bad body")
    try:
        check_vapid(request.headers.get("Authorization", ""), f"http://{request.host}")
    except VapidRefused as error:
        return web.Response(status=401, text=str(error))
    return None


async def demanded(request: web.Request) -> web.Response | None:
    """The answer the tests asked for this id, if any is left."""
    answers = request.app[ANSWERS]
    asked = answers.get(request.match_info["id"])
    if asked is None:
        return None
    if asked.get("times") is not None:
        asked["times"] -= 1
        if asked["times"] <= 0:
            del answers[request.match_info["id"]]
    if asked.get("delay"):
        await asyncio.sleep(float(asked["delay"]))
    if asked["status"] == 201:
        return created()
    headers = {"Retry-After": str(asked["retry_after"])} if asked.get("retry_after") else {}
    return web.Response(status=asked["status"], headers=headers)


def created() -> web.Response:
    """201 with the message's location, as RFC 8030 answers."""
    return web.Response(status=201, headers={"Location": f"/message/{uuid.uuid4().hex}"})


async def answer_on_demand(request: web.Request) -> web.Response:
    """Make an id answer 201, 404, 410 or 429 (``retry_after``), ``delay`` seconds late,
    ``times`` times or always."""
    asked = await request.json()
    if asked.get("status") not in ON_DEMAND or not isinstance(asked.get("id"), str):
        return web.json_response({"error": f"status must be one of {ON_DEMAND}"}, status=400)
    request.app[ANSWERS][asked["id"]] = {
        name: asked.get(name) for name in ("status", "retry_after", "delay", "times")
    }
    return web.json_response({"ok": True})


async def received(request: web.Request) -> web.Response:
    """Every push taken (``?id=`` for one subscription's), oldest first."""
    wanted = request.query.get("id")
    pushes = [p for p in request.app[RECEIVED] if wanted in (None, p["id"])]
    return web.json_response(pushes)


async def reset(request: web.Request) -> web.Response:
    """Forget what was received and the answers asked for."""
    request.app[RECEIVED].clear()
    request.app[ANSWERS].clear()
    return web.json_response({"ok": True})
