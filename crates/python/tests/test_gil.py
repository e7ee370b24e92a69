"""The GIL is released while training, recommending for everyone and evaluating: another
Python thread keeps running meanwhile. And Ctrl-C still interrupts a fit.

A thread counts loop turns. Alone it makes ``rate`` turns a second; during a call that keeps
the GIL it would make none (a pure-Python loop needs the GIL), so it must reach a good share of
``rate * seconds`` during each call.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from typing import Callable

import pytest

import flash_rec


class Counter(threading.Thread):
    """Counts as fast as it can until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.turns = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            self.turns += 1


def share_of_progress(call: Callable[[], object]) -> tuple[float, float]:
    """(turns made during ``call`` / turns expected at the lone rate, seconds of ``call``)."""
    counter = Counter()
    counter.start()
    time.sleep(0.3)
    start_turns, start = counter.turns, time.perf_counter()
    time.sleep(0.3)
    rate = (counter.turns - start_turns) / (time.perf_counter() - start)

    before, started = counter.turns, time.perf_counter()
    call()
    seconds = time.perf_counter() - started
    during = counter.turns - before
    counter.running = False
    counter.join()
    return during / (rate * seconds), seconds


@pytest.fixture(scope="module")
def big_data(tmp_path_factory) -> flash_rec.Dataset:
    """Synthetic ratings large enough for a fit of about a second on one thread."""
    path = tmp_path_factory.mktemp("gil") / "ratings.csv"
    flash_rec.synth(path, users=20_000, items=4_000, ratings=1_000_000, seed=1)
    return flash_rec.Dataset.from_ratings(path)


@pytest.fixture(scope="module")
def big_model(big_data) -> flash_rec.ALS:
    """A model of ``big_data`` whose computations run on one thread."""
    model = flash_rec.ALS(factors=32, epochs=1, threads=1)
    model.fit(big_data)
    return model


def test_fit_releases_the_gil(big_data):
    # One worker thread: the other core is free for the counting thread.
    model = flash_rec.ALS(factors=32, epochs=10, threads=1)
    share, seconds = share_of_progress(lambda: model.fit(big_data))
    assert seconds > 0.3, f"the fit took {seconds:.2f} s: too short to tell"
    assert share > 0.3, f"another thread ran at {share:.0%} of its pace during fit"


def repeated(call: Callable[[], object], times: int = 5) -> Callable[[], None]:
    """``call`` run ``times`` times in a row: one call alone may end too soon to measure."""
    return lambda: [call() for _ in range(times)] and None


def test_recommend_all_and_evaluate_release_the_gil(big_model, big_data):
    share, seconds = share_of_progress(repeated(lambda: big_model.recommend_all(k=10)))
    assert seconds > 0.1, f"recommend_all took {seconds:.2f} s: too short to tell"
    assert share > 0.3, f"another thread ran at {share:.0%} of its pace in recommend_all"
    share, seconds = share_of_progress(repeated(lambda: big_model.evaluate(big_data)))
    assert seconds > 0.1, f"evaluate took {seconds:.2f} s: too short to tell"
    assert share > 0.3, f"another thread ran at {share:.0%} of its pace in evaluate"


def test_ctrl_c_interrupts_a_fit(big_data):
    script = (
        "import flash_rec\n"
        f"data = flash_rec.Dataset.open({big_data.path!r})\n"
        "model = flash_rec.ALS(factors=32, epochs=10_000, threads=1)\n"
        "print('fitting', flush=True)\n"
        "model.fit(data)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "fitting"
    time.sleep(0.5)
    interrupted = time.perf_counter()
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=30)
    assert child.returncode != 0 and "KeyboardInterrupt" in stderr, stderr
    assert time.perf_counter() - interrupted < 5, "the fit went on long after Ctrl-C"
