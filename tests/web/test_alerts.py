"""Go-live alerts: the ``/api/alerts`` contract, the alert leases it holds, forgetting a
device, and the ``vapid-keys`` command."""

from __future__ import annotations

from shared.vapid import public_key_of


def test_vapid_keys_prints_a_matching_pair_as_two_settings_lines(runner):
    result = runner.invoke(args=["vapid-keys"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split("=", 1) for line in result.output.splitlines())
    assert set(lines) == {"VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY"}
    assert public_key_of(lines["VAPID_PRIVATE_KEY"]) == lines["VAPID_PUBLIC_KEY"]
    assert runner.invoke(args=["vapid-keys"]).output != result.output
