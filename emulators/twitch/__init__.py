"""A local Twitch for offline runs and tests.

One aiohttp process serves OAuth (``/oauth2``), Helix (``/helix``), the legacy
WebSub hub (``/helix/webhooks``) and emulator controls (``/_emulator``), and
calls subscribers' callbacks with signed EventSub and WebSub messages.
"""
