"""The consent page of ``GET /oauth2/authorize``: pick a roster user to log in as, or deny."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from emulators.twitch.users import User

DECIDE_PATH = "/oauth2/authorize/decide"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Authorize {client} - Twitch emulator</title>
<style>
body {{ font-family: sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem;
       color: #18181b; background: #fff; }}
a.button {{ display: block; margin: .5rem 0; padding: .75rem 1rem; border-radius: .4rem;
           background: #9147ff; color: #fff; text-decoration: none; }}
a.deny {{ background: #e5e5e5; color: #18181b; }}
small {{ opacity: .8; }}
@media (prefers-color-scheme: dark) {{
  body {{ color: #efeff1; background: #0e0e10; }}
  a.deny {{ background: #3a3a3d; color: #efeff1; }}
}}
</style>
</head>
<body>
<h1>Twitch emulator</h1>
<p><strong>{client}</strong> wants to access your account.</p>
<p>Scopes: {scopes}</p>
<p>Log in as:</p>
<ul style="list-style: none; padding: 0">
{users}
</ul>
<a class="button deny" id="deny" href="{deny}">Deny</a>
</body>
</html>
"""

USER = (
    '<li><a class="button login" data-login="{login}" href="{href}">{name} '
    "<small>({login}, {status})</small></a></li>"
)


def decide_url(params: dict[str, str], **choice: str) -> str:
    """The link that carries the original request plus the user's choice."""
    return f"{DECIDE_PATH}?{urlencode({**params, **choice})}"


def render(params: dict[str, str], users: list[User]) -> str:
    """The consent page for an authorization request; every value is escaped."""
    scopes = params.get("scope", "").split()
    rows = "\n".join(
        USER.format(
            login=escape(user.login),
            name=escape(user.display_name),
            status="live" if user.live else "offline",
            href=escape(decide_url(params, login=user.login)),
        )
        for user in users
    )
    return PAGE.format(
        client=escape(params.get("client_id", "")),
        scopes=escape(", ".join(scopes) or "(none)"),
        users=rows,
        deny=escape(decide_url(params, deny="true")),
    )
