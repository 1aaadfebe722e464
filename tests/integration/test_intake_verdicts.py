"""The web, as the Procfile serves it, gives the recorded verdicts to a fixed set of
webhook requests (tests/integration/intake_verdicts.py): the same answers and the same
intake entries as when the set was recorded."""

import json

import pytest

from tests.integration.intake_verdicts import RECORDED, replay

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def test_every_request_of_the_set_gets_its_recorded_verdict(lone_web):
    recorded = json.loads(RECORDED.read_text())
    verdicts = replay(
        lone_web.web_port, lone_web.redis(), lone_web.secret, lone_web.env["TWITCH_API_URL"]
    )
    assert sorted(verdicts) == sorted(recorded)
    for name, expected in recorded.items():
        assert verdicts[name] == expected, name
