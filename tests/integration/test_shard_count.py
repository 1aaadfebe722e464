"""A worker and a web started with another INTAKE_SHARDS than the intake in Redis was
made with refuse to start, each with one line saying how to change it
(shared/shard_count.py): run side by side, they would reorder streamers' events."""

import pytest

from scripts.stack import BIN, Stack
from shared.shard_count import SHARD_COUNT

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
SAYS = "configuration error: INTAKE_SHARDS is 8, but the intake in Redis has 16 shards"


def test_processes_with_another_shard_count_than_the_running_one_refuse_to_start(tmp_path):
    stack = Stack(tmp_path)
    try:
        stack.start_redis()
        stack.redis().set(SHARD_COUNT, 16)
        worker = stack.start("worker", [str(BIN / "celery"), "-A", "worker", "worker"])
        web = stack.start(
            "web",
            [str(BIN / "granian"), "--interface", "rsgi", "--factory", "web.server:create_server"]
            + ["--port", str(stack.web_port)],
        )
        assert worker.popen.wait(timeout=30) == 2
        assert SAYS in worker.log()
        assert web.popen.wait(timeout=30) != 0
        assert SAYS in web.log()
    finally:
        stack.stop(graceful=False)
