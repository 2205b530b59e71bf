"""A finite capture run tells its user how it goes and why trades were refused or not sent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.capture.peer import Peer
from tests.capture.test_cli import capture

PROGRESS = re.compile(
    r"^capture: [\d,]+ trades in \d+ s \([\d,]+/s\); recorded [\d,]+, published [\d,]+, "
    r"dropped [\d,]+",
    re.MULTILINE,
)


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = Peer().start()
    yield server
    server.stop()


def test_a_run_prints_progress_and_a_second_run_says_the_trades_are_already_stored(
    tmp_path: Path, peer: Peer
) -> None:
    store = f"sqlite:///{tmp_path / 'events.sqlite'}"
    common = ["--trades", "3000", "--seed", "4", "--store", store, "--ws-url", peer.url]
    first = capture(tmp_path, *common, "--rate", "1200")  # 2.5 s: at least one progress line
    assert first.returncode == 0, first.stderr
    assert PROGRESS.search(first.stderr), first.stderr
    assert "captured 3000 ticks: 3000 recorded" in first.stdout
    assert "already recorded" not in first.stdout

    again = capture(tmp_path, *common, "--fast")
    assert again.returncode == 0, again.stderr
    assert "captured 3000 ticks: 0 recorded in 0 batches, 3000 rejected" in again.stdout
    assert "  3,000 already recorded in this store" in again.stdout

    # Another seed is no way out: a synthetic session's trade ids do not depend on it (the
    # hint once suggested it; a README block then refused half its trades).
    other_seed = [*common[:2], "--seed", "5", *common[4:]]
    reseeded = capture(tmp_path, *other_seed, "--fast")
    assert "captured 3000 ticks: 0 recorded in 0 batches, 3000 rejected" in reseeded.stdout
    assert "give another --store" in reseeded.stdout
    assert "or another --seed" not in reseeded.stdout


def test_the_summary_says_why_ticks_were_not_published(tmp_path: Path) -> None:
    nobody = "ws://127.0.0.1:9"  # the discard port: nothing listens there
    done = capture(
        tmp_path, "--trades", "500", "--fast", "--buffer", "100", "--ws-url", nobody,
        "--drain-timeout", "0.2",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "messages dropped: the WebSocket buffer was full (no analytics host connected at " \
        f"{nobody}" in done.stdout  # fmt: skip
    assert f"100 messages never published: no analytics host connected at {nobody}" in done.stdout
    assert f"100 messages wait for an analytics host at {nobody}, up to 0.2 s" in done.stderr
