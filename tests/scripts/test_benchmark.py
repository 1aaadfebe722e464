"""The benchmark's reading of the worker's lag histogram, of its options and of Redis's
command statistics."""

import argparse
import math

import pytest

from scripts.benchmark import command_costs, counts, histogram_quantile, round_trips

BUCKETS = {0.01: 0, 0.025: 10, 0.05: 90, 0.1: 100, math.inf: 100}


@pytest.mark.parametrize(
    "q, expected",
    [
        (0.05, 0.0175),  # rank 5 of the 10 in (0.01, 0.025]
        (0.5, 0.0375),  # rank 50: half way through the 80 in (0.025, 0.05]
        (0.99, 0.095),
        (1.0, 0.1),
    ],
)
def test_a_quantile_is_interpolated_within_its_bucket_as_prometheus_does(q, expected):
    assert histogram_quantile(q, BUCKETS) == pytest.approx(expected)


def test_a_quantile_in_the_first_bucket_starts_from_zero():
    assert histogram_quantile(0.5, {0.01: 4, math.inf: 4}) == pytest.approx(0.005)


def test_a_quantile_beyond_the_last_bound_is_that_bound():
    assert histogram_quantile(0.99, {0.01: 0, 0.1: 50, math.inf: 100}) == 0.1


def test_round_trips_are_read_from_a_comma_separated_list():
    assert round_trips("0, 50") == [0.0, 50.0]


def test_process_counts_are_read_from_a_comma_separated_list():
    assert counts("1, 2,4") == [1, 2, 4]


@pytest.mark.parametrize("text", ["0", "1,x", ""])
def test_a_process_count_below_one_or_not_a_number_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        counts(text)


def test_command_costs_are_the_change_of_each_command_the_benchmarks_info_left_out():
    before = {"cmdstat_xadd": {"calls": 10, "usec": 30}, "cmdstat_info": {"calls": 1, "usec": 9}}
    after = {
        "cmdstat_xadd": {"calls": 110, "usec": 330},
        "cmdstat_eval": {"calls": 200, "usec": 1000},
        "cmdstat_info": {"calls": 2, "usec": 18},
        "cmdstat_get": {"calls": 0, "usec": 0},
        "total_net_input_bytes": 5,
    }
    assert command_costs(before, after) == {"eval": (200, 1000), "xadd": (100, 300)}
