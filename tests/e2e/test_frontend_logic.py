"""The front end's pure logic (frontend/src/lib), under Node's own test runner.

Each ``*.test.mjs`` beside this module is one Node test file: instants, feed
order and status (event_order), the streamer box, title and follows
(viewer_moments), the colour mode and the chat embed's dark mode (color_mode),
viewer counts and how long a stream has been live (viewer_counts), raids (raids), and
several streams at once: their path, the merged feed's filter, the connection badge
and the title (multi_stream).
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import unavailable

NODE_TESTS = sorted(Path(__file__).parent.glob("*.test.mjs"))


def test_there_are_node_tests_to_run():
    assert NODE_TESTS, "no *.test.mjs found beside this module"


@pytest.mark.parametrize("test_file", NODE_TESTS, ids=lambda path: path.name)
def test_the_front_ends_logic(test_file):
    node = shutil.which("node")
    if node is None:
        unavailable("node is needed to test the front end's logic")
    result = subprocess.run(
        [node, "--test", str(test_file)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
