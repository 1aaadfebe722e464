"""The revocations operator command."""

import json

from shared.store import record_revocation
from shared.websub import record_denial
from web.operator.revocations import list_revocations

REVOKED = {
    "subscription_id": "sub-1",
    "type": "stream.online",
    "broadcaster_id": "958187706",
    "reason": "authorization_revoked",
    "revoked_at": "2026-01-01T12:00:00.000000000Z",
}


def test_lists_revocations_and_denials_newest_first(runner, redis_client):
    record_revocation(redis_client, REVOKED)
    record_revocation(redis_client, dict(REVOKED, subscription_id="sub-2", reason="user_removed"))
    record_denial(redis_client, "https://api.twitch.tv/helix/streams?user_id=1", "unauthorized")
    result = runner.invoke(list_revocations)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split("\t")[1:] for line in lines] == [
        ["revoked", "stream.online", "958187706", "user_removed", "sub-2"],
        ["revoked", "stream.online", "958187706", "authorization_revoked", "sub-1"],
        ["denied", "websub", "https://api.twitch.tv/helix/streams?user_id=1", "unauthorized"],
    ]
    assert lines[0].startswith("2026-01-01T12:00:00")
    assert "2 revocation(s), 1 WebSub denial(s)" in result.stderr


def test_json_prints_one_object_a_line_and_nothing_else(runner, redis_client):
    record_revocation(redis_client, REVOKED)
    record_denial(redis_client, "topic", "denied by the hub")
    result = runner.invoke(list_revocations, ["--json"])
    assert result.exit_code == 0, result.output
    first, second = map(json.loads, result.output.splitlines())
    assert first == {"kind": "revoked", **REVOKED}
    assert (second["kind"], second["topic"], second["reason"]) == (
        "denied",
        "topic",
        "denied by the hub",
    )


def test_nothing_recorded_says_so(runner, redis_client):
    result = runner.invoke(list_revocations)
    assert result.exit_code == 0 and result.stdout == ""
    assert "0 revocation(s), 0 WebSub denial(s)" in result.stderr
