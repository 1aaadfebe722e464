"""Redis failing over under load: scripts/chaos.py's redis-failover and
redis-switchover, each on a fresh stack whose Redis is a primary, two replicas and
three sentinels (scripts/redis_group.py)."""

from concurrent.futures import ThreadPoolExecutor

from scripts.chaos import run


def test_a_primary_killed_under_load_loses_nothing_acknowledged(tmp_path):
    with ThreadPoolExecutor(1) as thread:  # its own event loop: Playwright's runs in this one
        row = thread.submit(run, "redis", "redis-failover", 60, tmp_path / "failover").result()
    assert not row.error
    assert row.acknowledged == row.sent  # each in the end, some after a 503 and a resend
    assert row.lost == 0
    assert row.resends > 0  # the primary was gone for a while: the fault took place
    assert row.failed_after_recovery == 0  # 5xx only while no primary was elected
    assert row.catch_up is not None and row.catch_up < 5
    assert row.dead_letters == 0


def test_a_planned_switchover_answers_every_webhook(tmp_path):
    """SENTINEL FAILOVER at 60 webhooks/s: the appends that meet it are made again on
    the new primary within the acknowledgement's time, so none is answered 5xx."""
    with ThreadPoolExecutor(1) as thread:
        row = thread.submit(run, "redis", "redis-switchover", 60, tmp_path / "switchover").result()
    assert not row.error
    assert row.acknowledged == row.sent
    assert row.resends == 0
    assert row.lost == 0
    assert row.dead_letters == 0
