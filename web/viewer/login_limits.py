"""Limits on starting logins: each client address may start LOGIN_STARTS_PER_MINUTE
logins a minute, and a session keeps only its MAX_PENDING_LOGINS newest logins in
progress (each stores its ``state`` in the session)."""

from __future__ import annotations

import ipaddress
import time

from flask import request, session

from shared.store import over_rate_limit
from web.clients import get_redis

LOGIN_STARTS_PER_MINUTE = 20
MAX_PENDING_LOGINS = 3


def login_start_wait() -> int | None:
    """Count a login start of this client address; the seconds it must wait when it
    started more than LOGIN_STARTS_PER_MINUTE in the last minute, else None."""
    client = get_redis()
    counter = f"sev:rate:login:{client_address()}"
    if over_rate_limit(client, counter, LOGIN_STARTS_PER_MINUTE, 60):
        return max(1, client.ttl(counter))
    return None


def client_address() -> str:
    """The requesting client's address, as login starts are counted: an IPv6 address
    by its /64 network, which one household or host usually holds whole.

    Behind a proxy this is the proxy's address unless the app trusts
    ``TRUSTED_PROXIES`` hops of ``X-Forwarded-For`` (werkzeug's ProxyFix).
    """
    address = request.remote_addr or ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if parsed.version == 6:
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def prune_pending_logins(prefix: str) -> None:
    """Keep the session's MAX_PENDING_LOGINS newest unexpired logins in progress (the
    entries whose keys start with ``prefix``)."""
    now = time.time()
    pending = sorted(
        (key for key in session if key.startswith(prefix)),
        key=lambda key: session[key].get("exp", 0),
        reverse=True,
    )
    for number, key in enumerate(pending):
        if number >= MAX_PENDING_LOGINS or session[key].get("exp", 0) <= now:
            del session[key]
