"""OAuth under ``/oauth2``: authorize, token, validate and revoke, answering as Twitch does."""

from __future__ import annotations

import logging
from typing import NoReturn
from urllib.parse import urlsplit

from aiohttp import web
from yarl import URL

from emulators.twitch import consent
from emulators.twitch.state import STATE
from emulators.twitch.tokens import Grant, OAuthError

log = logging.getLogger("emulators.twitch")


@web.middleware
async def oauth_errors(request: web.Request, handler):
    """Answer :class:`OAuthError` with Twitch's ``{"status", "message"}`` JSON."""
    try:
        return await handler(request)
    except OAuthError as error:
        return web.json_response(error.body(), status=error.status)


def _checked(request: web.Request) -> dict[str, str]:
    """The authorization request's parameters, once client and redirect are valid."""
    params = {
        k: v
        for k, v in request.query.items()
        if k in ("client_id", "redirect_uri", "response_type", "scope", "state")
    }
    if params.get("client_id") != request.app[STATE].config.client_id:
        raise OAuthError(400, "invalid client")
    if urlsplit(params.get("redirect_uri", "")).scheme not in ("http", "https"):
        raise OAuthError(400, "Parameter redirect_uri does not match registered URI")
    if params.get("response_type") != "code":
        _redirect(
            params,
            error="unsupported_response_type",
            error_description="The emulator supports response_type=code only",
        )
    return params


def _redirect(params: dict[str, str], **answer: str) -> NoReturn:
    """Send the browser back to the client with ``answer`` and the state it gave."""
    if "state" in params:
        answer["state"] = params["state"]
    raise web.HTTPFound(str(URL(params["redirect_uri"]).extend_query(answer)))


async def authorize(request: web.Request) -> web.Response:
    """``GET /oauth2/authorize``: the consent page listing roster users."""
    params = _checked(request)
    page = consent.render(params, request.app[STATE].roster.users)
    return web.Response(text=page, content_type="text/html")


async def decide(request: web.Request) -> web.Response:
    """The consent page's choice: a code for the chosen user, or ``access_denied``."""
    params = _checked(request)
    if request.query.get("deny"):
        _redirect(params, error="access_denied", error_description="The user denied you access")
    state = request.app[STATE]
    user = state.roster.find(login=request.query.get("login", ""))
    if user is None:
        raise OAuthError(400, "unknown user")
    scopes = params.get("scope", "").split()
    code = state.tokens.issue_code(
        Grant(params["client_id"], user.id, user.login, scopes, params["redirect_uri"])
    )
    log.info("%s authorized %s (%s)", user.login, params["client_id"], " ".join(scopes))
    _redirect(params, code=code, scope=" ".join(scopes))


async def _fields(request: web.Request) -> dict[str, str]:
    fields = dict(request.query)
    if request.content_type == "application/json":
        try:
            fields.update({k: str(v) for k, v in (await request.json()).items()})
        except (ValueError, AttributeError):
            raise OAuthError(400, "invalid JSON body") from None
    else:
        fields.update({k: str(v) for k, v in (await request.post()).items()})
    return fields


async def token(request: web.Request) -> web.Response:
    """``POST /oauth2/token``: authorization_code, refresh_token or client_credentials."""
    fields = await _fields(request)
    config, tokens = request.app[STATE].config, request.app[STATE].tokens
    if fields.get("client_id") != config.client_id:
        raise OAuthError(400, "invalid client")
    if fields.get("client_secret") != config.client_secret:
        raise OAuthError(403, "invalid client secret")
    grant_type = fields.get("grant_type")
    if grant_type == "authorization_code":
        issued = tokens.redeem_code(
            fields.get("code", ""), config.client_id, fields.get("redirect_uri", "")
        )
    elif grant_type == "refresh_token":
        issued = tokens.refresh(fields.get("refresh_token", ""), config.client_id)
    elif grant_type == "client_credentials":
        issued = tokens.app_token(config.client_id, fields.get("scope", "").split())
    elif not grant_type:
        raise OAuthError(400, "missing grant_type")
    else:
        raise OAuthError(400, "unsupported grant_type")
    return web.json_response(issued.answer())


async def validate(request: web.Request) -> web.Response:
    """``GET /oauth2/validate`` with ``Authorization: OAuth <token>``."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() not in ("oauth", "bearer") or not value.strip():
        raise OAuthError(401, "missing authorization token")
    found = request.app[STATE].tokens.lookup(value.strip())
    if found is None:
        raise OAuthError(401, "invalid access token")
    answer: dict[str, object] = {"client_id": found.client_id, "scopes": list(found.scopes)}
    if not found.is_app:
        answer.update(login=found.login, user_id=found.user_id)
    answer["expires_in"] = found.expires_in()
    return web.json_response(answer)


async def revoke(request: web.Request) -> web.Response:
    """``POST /oauth2/revoke`` with ``client_id`` and ``token``: 200 with no body."""
    fields = await _fields(request)
    state = request.app[STATE]
    if fields.get("client_id") != state.config.client_id:
        raise OAuthError(404, "client does not exist")
    if not state.tokens.revoke(fields.get("token", ""), fields["client_id"]):
        raise OAuthError(400, "Invalid token")
    return web.Response(status=200)


def add_routes(app: web.Application) -> None:
    """Register the endpoints of this module."""
    app.router.add_get("/oauth2/authorize", authorize)
    app.router.add_get(consent.DECIDE_PATH, decide)
    app.router.add_post("/oauth2/token", token)
    app.router.add_get("/oauth2/validate", validate)
    app.router.add_post("/oauth2/revoke", revoke)
