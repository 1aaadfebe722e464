"""The webhook intake: what Twitch and Pusher send us, checked and queued raw for the
worker, and acknowledged only once it is queued. EventSub messages are answered on the
server's event loop (:mod:`web.intake.eventsub`, writing through
:mod:`web.intake.writer`); legacy WebSub notifications and their hub's checks
(:mod:`web.intake.websub`, queued by :mod:`web.intake.queueing`) and Pusher's channel
webhooks (:mod:`web.intake.pusher_webhooks`) are Flask views. Nothing here knows the
viewer's pages or the operator's commands.
"""
