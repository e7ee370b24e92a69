"""examples/movielens.py runs end to end on ml-latest-small, with or without matplotlib and
Optuna (whichever of them this environment has)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import WORKSPACE


def test_the_movielens_example_runs(movielens: Path, tmp_path: Path):
    command = [
        sys.executable, str(WORKSPACE / "examples" / "movielens.py"), "--data", str(movielens),
        "--factors", "8", "--epochs", "3", "--trials", "2", "--out", str(tmp_path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ),
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert "test RMSE" in done.stdout and "Toy Story" in done.stdout
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "pip install matplotlib" in done.stdout
    else:
        assert (tmp_path / "training_curves.png").is_file()
    try:
        import optuna  # noqa: F401
    except ImportError:
        assert "running flash_rec.tune instead" in done.stdout
    else:
        assert "Optuna: best validation RMSE" in done.stdout
        assert "tuned on all of train: test RMSE" in done.stdout
