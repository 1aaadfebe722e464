"""The soak's options and its report lines, without a stack."""

import math

import pytest

from scripts.soak import growth_lines, minute_line, parser, print_memory_report
from shared.settings import MIN_DEDUPE_WINDOW

READING = {
    "web": 100 * 2**20,
    "worker": 80 * 2**20,
    "redis": 10 * 2**20,
    "used_memory": 4 * 2**20,
    "keys": 1200,
    "live_keys": 1200,
    "bytes_per_key": 3495,
}


def test_twenty_minutes_at_200_a_second_unless_told():
    args = parser().parse_args([])
    assert (args.minutes, args.rate, args.broadcasters) == (20, 200, 100)
    assert parser().parse_args(["--minutes", "2"]).minutes == 2


@pytest.mark.parametrize("minutes", ["0", "two", "1,2"])
def test_a_length_below_one_minute_is_refused(minutes):
    with pytest.raises(SystemExit):
        parser().parse_args(["--minutes", minutes])


def test_a_minute_reads_its_own_lag_and_the_memory():
    before = {0.01: 0, 0.05: 100, 0.1: 100, math.inf: 100}
    after = {0.01: 0, 0.05: 200, 0.1: 300, math.inf: 300}  # this minute: 100 and 200
    line = minute_line(3, before, after, READING)
    assert line.startswith("minute   3  lag p50   50.0 ms  p99   99.0 ms (200 events)")
    assert "web  100.0 MiB" in line and "1200 keys, 1200 live" in line


def test_growth_over_a_tenth_is_a_finding_and_redis_is_judged_by_its_live_keys():
    later = {**READING, "worker": 90 * 2**20, "keys": 1400, "live_keys": 1250}
    lines = dict(line.split(None, 1) for line in growth_lines(READING, later))
    assert lines["worker"].endswith("FINDING: grew over 10%")
    assert lines["web"].endswith("ok") and lines["live_keys"].endswith("ok")
    assert lines["keys"].endswith("see live_keys, bytes_per_key)")  # expired, not reclaimed
    leaking = dict(
        line.split(None, 1) for line in growth_lines(READING, {**later, "live_keys": 1400})
    )
    assert leaking["live_keys"].endswith("FINDING: grew over 10%")


def test_growth_counts_from_the_first_minute_after_the_dedupe_window_filled(capsys):
    """The marks of a 120 s window expire as fast as they come from minute 3 on: Redis's
    growth until then is by design, after it a finding; what it kept per event is read
    until then."""
    minutes = [
        {
            **READING,
            "used_memory": (4 + n) * 2**20,
            "keys": 1200 + 100 * n,
            "live_keys": 1200 + 100 * n,
        }
        for n in range(3)
    ]
    minutes += [{**minutes[-1]} for _ in range(6)] + [{**minutes[-1], "live_keys": 1600}]
    print_memory_report(READING, minutes, 10, 120)
    report = capsys.readouterr().out
    assert "after minute 3 (window full)" in report
    assert "growth from minute 3 to minute 10:" in report
    assert "live_keys    +14.3%  FINDING" in report  # 1,400 at minute 3, 1,600 at the end
    assert "keys          +0.0%  (with expired keys" in report
    assert f"Redis kept {2 * 2**20 / (10 * 60 * 2):,.0f} bytes and 0.17 keys" in report


def test_a_soak_shorter_than_the_window_says_it_never_filled(capsys):
    minutes = [{**READING, "used_memory": (4 + n) * 2**20} for n in range(3)]
    print_memory_report(READING, minutes, 10, 900)
    report = capsys.readouterr().out
    assert "never filled" in report and "growth from minute 1 to minute 3:" in report


def test_the_dedupe_window_is_the_least_unless_told():
    assert parser().parse_args([]).dedupe_window == MIN_DEDUPE_WINDOW
    assert parser().parse_args(["--dedupe-window", "3600"]).dedupe_window == 3600
    with pytest.raises(SystemExit):  # the worker would refuse it at start-up
        parser().parse_args(["--dedupe-window", "600"])
