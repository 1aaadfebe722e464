"""The ordering window and batch formation (pure logic)."""

import pytest

BATCH_LIMIT = 10


@pytest.fixture(autouse=True)
def sequencer_module(worker_environment):
    """The module (the worker package reads its settings on first import)."""
    global Sequencer, Held
    from worker.sequencer import BATCH_LIMIT as limit
    from worker.sequencer import Held, Sequencer

    assert limit == BATCH_LIMIT


def held(broadcaster, order, ready_at=0.0, name=None):
    return Held(broadcaster, order, ready_at, {"id": name or f"{broadcaster}-{order}"})


def ids(batch):
    return [item.event["id"] for item in batch]


def test_nothing_leaves_before_its_window():
    sequencer = Sequencer()
    sequencer.add(held("a", "1", ready_at=5.0))
    assert sequencer.take_batch(now=4.9) == []
    assert sequencer.next_ready_at() == 5.0
    assert ids(sequencer.take_batch(now=5.0)) == ["a-1"]


def test_an_earlier_event_arriving_later_overtakes_within_the_window():
    sequencer = Sequencer()
    sequencer.add(held("a", "2", ready_at=1.0))  # online, read first
    sequencer.add(held("a", "1", ready_at=1.2))  # the update Twitch sent before it
    assert sequencer.take_batch(now=1.1) == [], "the earlier event has not waited its window"
    assert ids(sequencer.take_batch(now=1.2)) == ["a-1", "a-2"]


def test_one_batch_in_flight_per_broadcaster():
    sequencer = Sequencer()
    sequencer.add(held("a", "1"))
    assert ids(sequencer.take_batch(now=1)) == ["a-1"]
    sequencer.add(held("a", "2"))
    sequencer.add(held("b", "1"))
    assert ids(sequencer.take_batch(now=1)) == ["b-1"], "a is still in flight"
    sequencer.done(["a"])
    assert ids(sequencer.take_batch(now=1)) == ["a-2"]


def test_batches_hold_at_most_ten_and_keep_each_broadcasters_order():
    sequencer = Sequencer()
    for n in range(15):
        sequencer.add(held("a", f"{n:02d}"))
    for n in range(3):
        sequencer.add(held("b", f"{n:02d}"))
    first = sequencer.take_batch(now=1)
    assert len(first) == BATCH_LIMIT and ids(first) == [f"a-{n:02d}" for n in range(10)]
    assert ids(sequencer.take_batch(now=1)) == ["b-00", "b-01", "b-02"]
    sequencer.done(["a", "b"])
    assert ids(sequencer.take_batch(now=1)) == [f"a-{n:02d}" for n in range(10, 15)]
    assert sequencer.size == 0


def test_an_event_whose_window_has_not_passed_waits_behind_in_a_busy_queue():
    sequencer = Sequencer()
    sequencer.add(held("a", "1", ready_at=0))
    sequencer.add(held("a", "2", ready_at=3))
    assert ids(sequencer.take_batch(now=1)) == ["a-1"]
    sequencer.done(["a"])
    assert sequencer.take_batch(now=2) == []
    assert ids(sequencer.take_batch(now=3)) == ["a-2"]
