"""The go-live alerts' metrics: pushes accepted and their lag from Twitch's time, failed
attempts by reason (every reason counted from zero, an unknown one as refused)."""

import pytest


@pytest.fixture
def push_metrics(worker_environment):
    """The module (the worker package reads its settings on first import)."""
    from worker import push_metrics

    return push_metrics


def value(push_metrics, name, **labels):
    return push_metrics.registry.get_sample_value(name, labels) or 0.0


def test_accepted_pushes_count_with_their_lag_from_twitchs_time(push_metrics):
    sent = value(push_metrics, "sev_pushes_sent_total")
    lags = value(push_metrics, "sev_push_lag_seconds_count")
    total = value(push_metrics, "sev_push_lag_seconds_sum")
    under_a_second = value(push_metrics, "sev_push_lag_seconds_bucket", le="1.0")
    noon = 1767268800.0  # 2026-01-01T12:00:00Z
    push_metrics.count_sent("2026-01-01T12:00:00Z", [noon + 0.5, noon + 2.0, noon - 1.0])
    assert value(push_metrics, "sev_pushes_sent_total") == sent + 3
    assert value(push_metrics, "sev_push_lag_seconds_count") == lags + 3
    assert value(push_metrics, "sev_push_lag_seconds_sum") == pytest.approx(total + 2.5)
    assert value(push_metrics, "sev_push_lag_seconds_bucket", le="1.0") == under_a_second + 2, (
        "a clock behind Twitch's counts no lag, not a negative one"
    )


@pytest.mark.parametrize("twitch_time", [None, "", "noon"])
def test_pushes_without_a_twitch_time_count_without_a_lag(push_metrics, twitch_time):
    sent = value(push_metrics, "sev_pushes_sent_total")
    lags = value(push_metrics, "sev_push_lag_seconds_count")
    push_metrics.count_sent(twitch_time, [1767268800.0])
    assert value(push_metrics, "sev_pushes_sent_total") == sent + 1
    assert value(push_metrics, "sev_push_lag_seconds_count") == lags


def test_failures_count_by_reason_and_an_unknown_reason_as_refused(push_metrics):
    for reason in push_metrics.FAILURE_REASONS:
        assert (
            push_metrics.registry.get_sample_value("sev_pushes_failed_total", {"reason": reason})
            is not None
        ), f"{reason} is counted from zero"
    before = {
        reason: value(push_metrics, "sev_pushes_failed_total", reason=reason)
        for reason in ("gone", "rate_limited", "refused")
    }
    push_metrics.count_failed(["gone", "rate_limited", "gone", "teapot"])
    assert value(push_metrics, "sev_pushes_failed_total", reason="gone") == before["gone"] + 2
    assert (
        value(push_metrics, "sev_pushes_failed_total", reason="rate_limited")
        == before["rate_limited"] + 1
    )
    assert value(push_metrics, "sev_pushes_failed_total", reason="refused") == before["refused"] + 1
    assert (
        push_metrics.registry.get_sample_value("sev_pushes_failed_total", {"reason": "teapot"})
        is None
    )
