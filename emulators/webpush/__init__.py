"""A local Web Push service (RFC 8030) for the local run and the tests: it takes
``aes128gcm`` pushes (RFC 8291) with a VAPID header (RFC 8292), checks them, records them,
and answers 201, or 404, 410 or 429 on demand. See :mod:`emulators.webpush.server`."""
