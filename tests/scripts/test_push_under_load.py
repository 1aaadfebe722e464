"""The steady latency beside a fan-out: scripts/push_under_load.py on a small stack."""

import pytest

from scripts import push_under_load

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_both_phases_and_the_fan_out_are_reported(capsys):
    push_under_load.main(["--devices", "5", "--rtt-ms", "10", "--rate", "10", "--seconds", "0.5"])
    alone, during, pushes = capsys.readouterr().out.strip().splitlines()
    assert alone.startswith("steady 10/s alone: ") and alone.endswith("ms (5)")
    assert during.startswith("steady 10/s with the fan-out: ") and during.endswith("ms (5)")
    assert pushes.startswith("5 pushes through 10 ms: the last accepted ")
