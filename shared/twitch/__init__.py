"""Every call to Twitch, for the web, the worker and the shared code alike.

- :mod:`shared.twitch.client`: :class:`~shared.twitch.client.TwitchClient` (Helix with
  the app access token: users, streams, channels, follows, EventSub and the WebSub
  hub, within Twitch's rate limit) and the rate-limit and EventSub budget figures
  it keeps in Redis.
- :mod:`shared.twitch.tokens`: the app access token every process shares through
  Redis (:class:`~shared.twitch.tokens.AppTokens`) and a viewer's user tokens
  (:class:`~shared.twitch.tokens.UserTokens`: validate, refresh, revoke).
- :mod:`shared.twitch.errors`: :class:`~shared.twitch.errors.TwitchError` and its kinds,
  and how a failed answer (or none) becomes one.
- :mod:`shared.twitch.session`: the ``requests`` session every call goes through, with
  its time-outs and its retries with backoff.

Import each name from the module that defines it; this package re-exports nothing.
"""
