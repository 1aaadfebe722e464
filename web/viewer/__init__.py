"""The viewer's app: login with Twitch and the server-side sessions it opens (with the
limits on starting logins and keeping a signed-in token valid), the pages and the built
front end they link, the JSON API that starts watching streamers and reports their status,
the Pusher channel authorization that lets a browser join a streamer's channel, the
viewer's preferences, and go-live alerts with their Web Push subscriptions. Each view
reaches Redis, Celery, Pusher and Twitch through :mod:`web.clients`.
"""
