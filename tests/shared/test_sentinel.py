"""Finding the primary through Sentinel (shared/sentinel.py)."""

import pytest
import redis.sentinel

from shared.sentinel import NewestSentinel, newest_primary, primary_options


def view(port: int, epoch: int, **flags) -> dict:
    """One sentinel's view of the primary, as redis-py parses SENTINEL MASTERS."""
    return {
        "ip": "127.0.0.1",
        "port": port,
        "config-epoch": epoch,
        "is_master": True,
        "is_sdown": False,
        "is_odown": False,
        "num-other-sentinels": 2,
        **flags,
    }


def test_the_newest_view_wins_whichever_sentinel_answers_first():
    """Mid-failover the leader still names the former primary (older epoch)."""
    client = NewestSentinel([])
    views = [view(6379, 4), None, view(6380, 5)]
    assert newest_primary(client, views, "sev") == ("127.0.0.1", 6380)


def test_a_primary_seen_down_is_never_chosen():
    client = NewestSentinel([])
    views = [view(6379, 7, is_odown=True), view(6380, 6)]
    assert newest_primary(client, views, "sev") == ("127.0.0.1", 6380)
    with pytest.raises(redis.sentinel.MasterNotFoundError, match="sev"):
        newest_primary(client, [view(6379, 7, is_sdown=True), None], "sev")


def test_the_url_gives_the_primarys_database_password_and_tls():
    assert primary_options("rediss://:pw@ignored:1/3") == {"db": 3, "password": "pw", "ssl": True}
    assert primary_options("redis://ignored:1")["ssl"] is False
