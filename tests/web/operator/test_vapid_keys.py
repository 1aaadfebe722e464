"""The ``vapid-keys`` command: a fresh VAPID key pair, printed as the two settings lines."""

from __future__ import annotations

from shared.vapid import b64url_decode, public_key_of


def test_vapid_keys_prints_a_matching_pair_as_two_settings_lines(runner):
    result = runner.invoke(args=["vapid-keys"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split("=", 1) for line in result.output.splitlines())
    assert set(lines) == {"VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY"}
    assert public_key_of(lines["VAPID_PRIVATE_KEY"]) == lines["VAPID_PUBLIC_KEY"]
    assert runner.invoke(args=["vapid-keys"]).output != result.output


def test_the_public_key_is_what_a_browser_takes_as_the_servers_key(runner):
    """An uncompressed P-256 point, base64url without padding (``applicationServerKey``)."""
    result = runner.invoke(args=["vapid-keys"])
    public = dict(line.split("=", 1) for line in result.output.splitlines())["VAPID_PUBLIC_KEY"]
    point = b64url_decode(public)
    assert "=" not in public and len(point) == 65 and point[0] == 4
