"""Training in a trainer process leaves the model exactly as training in place would."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from hosts.analytics.trainer_process import ProcessTrainer
from tests.analytics.factories import fast_config
from tradingcore.analytics.model import OnlineModel
from tradingcore.analytics.state import model_state


def batches(count: int) -> list[tuple[np.ndarray, np.ndarray]]:  # type: ignore[type-arg]
    generator = np.random.default_rng(3)
    return [
        (generator.normal(size=(40, 5)), generator.integers(0, 3, 40, dtype=np.int64))
        for _ in range(count)
    ]


def trained_in_place(count: int) -> OnlineModel:
    model = OnlineModel(fast_config())
    for rows, labels in batches(count):
        model.train(rows, labels)
        model.apply()
    return model


def test_trainer_process_updates_the_model_bit_for_bit_as_training_in_place() -> None:
    trainer = ProcessTrainer()
    model = OnlineModel(fast_config())
    try:
        for rows, labels in batches(6):
            trainer.train(model, rows, labels)()
            model.apply()
    finally:
        trainer.close()
    assert trainer.local == 0
    assert model_state(model) == model_state(trained_in_place(6))
    assert model.version == trained_in_place(6).version


def test_trainer_process_killed_trains_in_place_and_is_restarted() -> None:
    problems: list[str] = []
    trainer = ProcessTrainer(problems.append)
    model = OnlineModel(fast_config())
    try:
        for number, (rows, labels) in enumerate(batches(6)):
            if number == 3:
                first = trainer.pid
                assert first is not None
                os.kill(first, signal.SIGKILL)
                deadline = time.monotonic() + 30
                while trainer.pid == first and time.monotonic() < deadline:
                    time.sleep(0.01)
            trainer.train(model, rows, labels)()
            model.apply()
    finally:
        trainer.close()
    assert trainer.restarts >= 1
    assert any("trainer process exited" in problem for problem in problems)
    assert model_state(model) == model_state(trained_in_place(6))


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="SCHED_BATCH is Linux's")
def test_trainer_process_runs_in_the_batch_scheduling_class() -> None:
    """Woken by a batch, it must not preempt the tick thread (see `yield_to_the_tick_thread`)."""
    trainer = ProcessTrainer()
    try:
        assert trainer.ready(60.0)
        assert trainer.pid is not None
        assert os.sched_getscheduler(trainer.pid) == os.SCHED_BATCH
        assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the host's own threads are not
    finally:
        trainer.close()
