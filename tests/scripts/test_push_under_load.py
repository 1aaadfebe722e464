"""The steady latency beside a fan-out: scripts/push_under_load.py on a small stack."""

import pytest

from scripts import push_under_load

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_both_phases_and_the_fan_out_are_reported(capsys):
    push_under_load.main(["--devices", "5", "--rtt-ms", "10", "--rate", "10", "--seconds", "0.5"])
    alone, beside, while_it_ran, pushes = capsys.readouterr().out.strip().splitlines()
    assert alone.startswith("steady 10/s alone: ") and alone.endswith("ms (5)")
    assert beside.startswith("steady 10/s beside the fan-out: ") and beside.endswith("ms (5)")
    assert while_it_ran.startswith("  of those, sent while it ran: ")
    assert pushes.startswith("5 pushes through 10 ms: the last accepted ")
