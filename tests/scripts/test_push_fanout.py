"""The fan-out figure: scripts/push_fanout.py against the stand-in, small."""

import pytest

from scripts import push_fanout

pytestmark = pytest.mark.timeout(60)


def test_every_device_is_pushed_and_the_time_reported(capsys):
    push_fanout.main(["--devices", "5", "--rtt-ms", "20"])
    line = capsys.readouterr().out.strip()
    assert line.startswith("5 devices, 20 ms round trip: last push accepted ")
    assert line.endswith("; 5 sent; stand-in answers {'201': 5}")
