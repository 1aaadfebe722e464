"""The EVAL against EVALSHA figures: scripts/lua_cost.py, small, in a process of its own
(it imports the worker package with the environment it makes)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(60)


def test_each_operation_is_measured_each_way_and_sha1_sends_less():
    output = subprocess.run(
        [sys.executable, "-m", "scripts.lua_cost", "--rounds", "1", "--events", "200"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.rsplit(None, 3) for line in output.splitlines()[1:]]
    assert [(name.strip(), way) for name, way, _, _ in rows][:3] == [
        ("claim, 1 a pipeline (light load)", way) for way in ("EVAL", "EVALSHA", "EXISTS")
    ]
    assert len(rows) == 12
    sent = {(name.strip(), way): int(size.replace(",", "")) for name, way, _, size in rows}
    busy = "claim, 100 a pipeline (a busy read)"
    assert sent[(busy, "EVALSHA")] * 3 < sent[(busy, "EVAL")], "the text once a pipeline"
