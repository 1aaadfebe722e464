"""The queues operator command against the test Redis (also the Celery broker here)."""

import json
import time

from shared import intake
from shared.shard_count import SHARD_COUNT, claim_shard_count
from shared.store import add_dead_letter


def test_queues_reports_depth_and_oldest_age_of_every_queue(app, runner, redis_client):
    intake.enqueue(redis_client, 8, intake.EVENTSUB, {}, "{}", "1337")
    app.extensions["celery"].send_task("subscriptions.renew_leases")
    add_dead_letter(redis_client, "publish", {"id": "m1"}, "why")
    time.sleep(0.2)
    report = json.loads(runner.invoke(args=["queues", "--json"]).output)
    assert report["intake"]["waiting"] == 1 and report["intake"]["oldest_age"] >= 0.1
    assert sum(report["intake"]["streams"].values()) == 1
    assert report["maintenance"]["waiting"] == 1 and report["maintenance"]["oldest_age"] >= 0.1
    assert report["publish"] == {"waiting": 0, "oldest_age": None}
    assert report["dead_letters"]["waiting"] == 1

    table = runner.invoke(args=["queues"]).output.splitlines()
    assert table[0].split() == ["queue", "waiting", "oldest"]
    rows = {line.split()[0]: line.split()[1:] for line in table[1:]}
    assert rows["intake"][0] == "1" and rows["maintenance"][0] == "1"
    assert rows["publish"] == ["0", "-"] and rows["dead"][:2] == ["letters", "1"]


def test_intake_shards_changes_the_count_only_with_the_intake_empty(runner, redis_client):
    claim_shard_count(redis_client, 8)
    intake.enqueue(redis_client, 8, intake.EVENTSUB, {}, "{}", "1337")
    refused = runner.invoke(args=["intake-shards", "4"])
    assert refused.exit_code == 1
    assert "the shard count stays as it is: the intake still holds 1 entries" in refused.output
    redis_client.delete(*[intake.intake_key(shard) for shard in range(8)])
    changed = runner.invoke(args=["intake-shards", "4"])
    assert changed.exit_code == 0 and "shard count is 4 (was 8)" in changed.output
    assert redis_client.get(SHARD_COUNT) == "4"
