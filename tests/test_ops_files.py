"""The monitoring files under ops/: the Prometheus scrape configuration and alert rules
(checked and run by promtool where it is installed) and the Grafana dashboard, against
the metric names the web and the worker export."""

import json
import re
import shutil
import subprocess

import pytest

from tests.support import ROOT

PROMETHEUS = ROOT / "ops" / "prometheus"
DASHBOARD = ROOT / "ops" / "grafana" / "dashboard.json"
# What the web's /metrics and the worker's port export; histograms add _bucket, _sum
# and _count to their names.
WEB_METRICS = {
    "sev_webhooks_total",
    "sev_http_requests_total",
    "sev_queue_depth",
    "sev_dead_letters",
    "sev_leases",
    "sev_eventsub_cost",
    "sev_eventsub_max_cost",
    "sev_occupied_channels",
}
WORKER_METRICS = {"sev_events_total", "sev_publish_attempts_total", "sev_publish_retries_total"}
HISTOGRAMS = {"sev_webhook_ack_seconds", "sev_publish_seconds", "sev_event_lag_seconds"}
METRICS = WEB_METRICS | WORKER_METRICS | HISTOGRAMS


def metric_names(text: str) -> set[str]:
    """The sev_ metric names a file uses, histogram series by their histogram's name."""
    names = set()
    for name in re.findall(r"\bsev_[a-z_]+[a-z]\b", text):
        histogram = re.sub(r"_(bucket|sum|count)$", "", name)
        names.add(histogram if histogram in HISTOGRAMS else name)
    return names


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def test_dashboard_and_alerts_use_only_exported_metrics():
    for path in (PROMETHEUS / "alerts.yml", PROMETHEUS / "alerts_test.yml", DASHBOARD):
        assert metric_names(path.read_text()) <= METRICS, path.name


def test_dashboard_shows_every_metric():
    assert metric_names("\n".join(dashboard_expressions())) == METRICS


def test_dashboard_panels_are_complete():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    assert [v["type"] for v in dashboard["templating"]["list"]] == ["datasource"]
    graphs = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in graphs:
        assert panel["targets"] and panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert target["expr"].count("(") == target["expr"].count(")"), target["expr"]
    lag = [e for e in dashboard_expressions() if "sev_event_lag_seconds_bucket" in e]
    assert {e.split(",")[0] for e in lag} == {"histogram_quantile(0.5", "histogram_quantile(0.99"}


def test_alerts_cover_lag_dead_letters_queues_cost_and_scrapes():
    text = (PROMETHEUS / "alerts.yml").read_text()
    alerts = set(re.findall(r"^\s+- alert: (\w+)$", text, re.MULTILINE))
    assert {
        "SevEventLagHigh",
        "SevDeadLettersGrowing",
        "SevIntakeBacklog",
        "SevEventSubCostNearMax",
        "SevScrapeFailing",
    } <= alerts


def test_scrape_config_has_the_web_behind_its_token_and_the_worker():
    yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the scrape config")
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"sev-web", "sev-worker"}
    assert jobs["sev-web"]["metrics_path"] == "/metrics"
    assert jobs["sev-web"]["authorization"]["type"] == "Bearer"
    assert "credentials" not in jobs["sev-web"]["authorization"], "the token stays in a file"
    assert jobs["sev-web"]["authorization"]["credentials_file"]
    assert config["rule_files"] == ["alerts.yml"]


@pytest.fixture
def promtool():
    path = shutil.which("promtool")
    if not path:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    return path


def test_promtool_accepts_the_config_and_rules(promtool, tmp_path):
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(PROMETHEUS / name, tmp_path / name)
    (tmp_path / "sev-metrics-token").write_text("a-token-for-the-check\n")
    result = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout


def test_alert_rules_fire_on_their_examples(promtool):
    result = subprocess.run(
        [promtool, "test", "rules", "alerts_test.yml"],
        cwd=PROMETHEUS,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
