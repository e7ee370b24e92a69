"""Fixtures of the flash_rec tests: the flash-rec binary to compare with, MovieLens (skipped
loudly when absent, a failure under FLASH_REQUIRE_DATA=1, as flash_ingest::dataset_for_test
does), a small synthetic data set and a model fitted on it.

Every cache goes to a temporary FLASH_CACHE_DIR, never to ~/.cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

import flash_rec

WORKSPACE = Path(__file__).resolve().parents[3]

# Parameters small enough for a fast test, with a seed and thread count of their own.
SMALL = dict(factors=8, epochs=5, lam=1.0, tau=0.05, gamma=0.3, seed=7, threads=2)
SMALL_FLAGS = [
    "--factors", "8", "--epochs", "5", "--lambda", "1.0", "--tau", "0.05", "--gamma", "0.3",
    "--seed", "7", "--threads", "2",
]


@pytest.fixture(scope="session", autouse=True)
def private_cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Default caches go to a temporary folder for the whole session."""
    root = tmp_path_factory.mktemp("cache-root")
    os.environ["FLASH_CACHE_DIR"] = str(root)
    return root


class Cli:
    """The flash-rec binary built with the package (FLASH_REC_BIN, set by cargo xtask test)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def run(self, *args: Any) -> str:
        """Runs ``flash-rec ARGS`` and returns its stdout; fails the test if it fails."""
        command = [str(self.path), *map(str, args)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed ({done.returncode}): {done.stderr}")
        return done.stdout

    def json(self, *args: Any) -> Any:
        """Runs ``flash-rec ARGS --json`` and parses its output."""
        return json.loads(self.run(*args, "--json"))


@pytest.fixture(scope="session")
def cli() -> Cli:
    """The binary to compare with; a loud skip when it cannot be found outside cargo xtask."""
    given = os.environ.get("FLASH_REC_BIN")
    if given:
        if not Path(given).is_file():
            pytest.fail(f"FLASH_REC_BIN={given} does not exist")
        return Cli(Path(given))
    default = WORKSPACE / "target" / "release" / "flash-rec"
    if default.is_file():
        return Cli(default)
    message = "SKIPPED: no flash-rec binary (set FLASH_REC_BIN or run cargo xtask test)"
    print(f"\n!!!!!!!! {message}\n", file=sys.stderr)
    pytest.skip(message)


def movielens_dir(name: str = "ml-latest-small") -> Path:
    """``$FLASH_DATA_DIR/NAME`` if it holds ratings.csv; otherwise a loud skip, or a failure
    under FLASH_REQUIRE_DATA=1."""
    base = os.environ.get("FLASH_DATA_DIR")
    if base and (Path(base) / name / "ratings.csv").is_file():
        return Path(base) / name
    message = (
        f"SKIPPED: needs {name} under FLASH_DATA_DIR (now {base or '<unset>'}); "
        f"get it with `cargo xtask download --dataset {name}`"
    )
    if os.environ.get("FLASH_REQUIRE_DATA") == "1":
        pytest.fail(f"{message}; FLASH_REQUIRE_DATA=1 makes this a failure")
    print(f"\n!!!!!!!! {message}\n", file=sys.stderr)
    pytest.skip(message)


@pytest.fixture(scope="session")
def movielens() -> Path:
    """The ml-latest-small folder."""
    return movielens_dir()


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic MovieLens-shaped ratings file: 300 users, 200 movies, 8000 ratings."""
    path = tmp_path_factory.mktemp("synth") / "ratings.csv"
    written = flash_rec.synth(path, users=300, items=200, ratings=8000, seed=3)
    assert written == 8000
    return path


@pytest.fixture(scope="session")
def small_data(small_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> flash_rec.Dataset:
    """``small_csv`` prepared with the default split."""
    cache = tmp_path_factory.mktemp("small") / "cache"
    return flash_rec.Dataset.from_ratings(small_csv, cache=cache)


@pytest.fixture(scope="session")
def small_model(small_data: flash_rec.Dataset) -> flash_rec.ALS:
    """A model fitted on ``small_data`` with ``SMALL``."""
    model = flash_rec.ALS(**SMALL)
    model.fit(small_data)
    return model


def without_seconds(epochs: Any) -> Any:
    """Epoch dicts without their timings, which differ from run to run."""
    return [{k: v for k, v in epoch.items() if k != "seconds"} for epoch in epochs]


def triples(arrays: Any) -> Dict[Any, float]:
    """``{(user, item): rating}`` of a ``(users, items, ratings)`` tuple."""
    users, items, ratings = arrays
    return {(int(u), int(i)): float(r) for u, i, r in zip(users, items, ratings)}
