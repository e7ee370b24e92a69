"""The Python API gives the command line's numbers: same data, seed and parameters, same
caches, histories, model bytes, metrics and recommendations (on synthetic data, so these run
everywhere; tests/test_movielens.py repeats the key ones on MovieLens with its features)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import SMALL_FLAGS, without_seconds

import flash_rec


@pytest.fixture(scope="module")
def cli_cache(cli, small_csv: Path, tmp_path_factory) -> Path:
    """``small_csv`` prepared by ``flash-rec prepare``."""
    out = tmp_path_factory.mktemp("cli") / "cache"
    cli.run("prepare", "--ratings", small_csv, "--out", out)
    return out


@pytest.fixture(scope="module")
def cli_model(cli, cli_cache: Path, tmp_path_factory):
    """``flash-rec train --json`` with ``SMALL``: (model path, its JSON document)."""
    model = tmp_path_factory.mktemp("cli-model") / "model.flash"
    report = cli.json("train", "--data", cli_cache, "--model", model, *SMALL_FLAGS)
    return model, report


def test_a_cache_prepared_in_python_is_the_cli_one(cli, cli_cache, small_data):
    assert small_data.info() == cli.json("info", "--data", cli_cache)
    assert cli.json("info", "--data", small_data.path) == small_data.info()
    cli_data = flash_rec.Dataset.open(cli_cache)
    assert cli_data.train_ratings()[0].tolist() == small_data.train_ratings()[0].tolist()
    for mine, theirs in zip(small_data.test_ratings(), cli_data.test_ratings()):
        assert np.array_equal(mine, theirs)


def test_fit_gives_the_cli_history_and_model_bytes(cli_model, small_model, tmp_path):
    model_path, report = cli_model
    assert small_model.params == report["params"]
    assert without_seconds(small_model.history) == without_seconds(report["epochs"])
    saved = tmp_path / "python.flash"
    small_model.save(saved)
    assert saved.read_bytes() == model_path.read_bytes()


def test_the_defaults_are_the_cli_defaults(cli, cli_cache, tmp_path):
    report = cli.json("train", "--data", cli_cache, "--model", tmp_path / "m.flash")
    assert flash_rec.ALS().params == report["params"]
    seed = cli.json(
        "train", "--data", cli_cache, "--model", tmp_path / "s.flash", "--seed-formulation",
        "--epochs", "1",
    )
    assert flash_rec.ALS.seed_formulation(epochs=1).params == seed["params"]


def test_evaluate_gives_the_cli_report(cli, cli_cache, cli_model, small_model, small_data):
    model_path, _ = cli_model
    assert small_model.evaluate(small_data) == cli.json(
        "eval", "--data", cli_cache, "--model", model_path
    )
    report = cli.json(
        "eval", "--data", cli_cache, "--model", model_path, "-k", "5",
        "--relevance-threshold", "3.5",
    )
    assert small_model.evaluate(small_data, k=5, relevance_threshold=3.5) == report


def same_list(python_result, cli_entries) -> None:
    """The (movie_ids, scores) of the API equal a CLI JSON list (scores as float32)."""
    movie_ids, scores = python_result
    assert movie_ids.dtype == np.int64 and scores.dtype == np.float32
    assert movie_ids.tolist() == [entry["movie_id"] for entry in cli_entries]
    expected = np.array([entry["score"] for entry in cli_entries], dtype=np.float32)
    assert np.array_equal(scores, expected)


def test_recommendations_are_the_cli_ones(cli, cli_cache, cli_model, small_model, small_data):
    model_path, _ = cli_model
    common = ["--data", cli_cache, "--model", model_path]
    for user in small_data.user_ids[:5].tolist():
        expected = cli.json("recommend", *common, "--user", user, "-k", "7")
        same_list(small_model.recommend(user, k=7), expected["recommendations"])
    user, denied = int(small_data.user_ids[2]), small_data.item_ids[:2].tolist()
    damped = cli.json(
        "recommend", *common, "--user", user, "--item-bias-weight", "0.5",
        "--deny-movie", ",".join(map(str, denied)),
    )
    result = small_model.recommend(user, item_bias_weight=0.5, deny=denied)
    same_list(result, damped["recommendations"])

    movies = small_data.item_ids[:4].tolist()
    rates = [f"--rate={movie}={rating}" for movie, rating in zip(movies, [5, 1, 4.5, 2])]
    new_user = cli.json("recommend", *common, *rates, "-k", "6")
    result = small_model.recommend_new(dict(zip(movies, [5.0, 1.0, 4.5, 2.0])), k=6)
    same_list(result, new_user["recommendations"])

    similar = cli.json("similar", *common, "--movie", movies[0], "-k", "8")
    same_list(small_model.similar(movies[0], k=8), similar["recommendations"])
    allowed = small_data.item_ids[10:40].tolist()
    allow_flag = "--allow-movie=" + ",".join(map(str, allowed))
    similar = cli.json("similar", *common, "--movie", movies[0], allow_flag)
    same_list(small_model.similar(movies[0], allow=allowed), similar["recommendations"])


@pytest.mark.parametrize("name", ["all.csv", "all.parquet"])
def test_recommend_all_writes_the_cli_file(cli, cli_cache, cli_model, small_model, tmp_path,
                                           name):
    model_path, _ = cli_model
    cli_out = tmp_path / ("cli-" + name)
    cli.run("recommend-all", "--data", cli_cache, "--model", model_path, "-k", "5", "--out",
            cli_out)
    python_out = tmp_path / ("python-" + name)
    users, ranks, movies, scores = small_model.recommend_all(k=5, out=python_out)
    assert python_out.read_bytes() == cli_out.read_bytes()
    if name.endswith(".csv"):
        rows = [line.split(",") for line in cli_out.read_text().splitlines()[1:]]
        assert users.tolist() == [int(row[0]) for row in rows]
        assert ranks.tolist() == [int(row[1]) for row in rows]
        assert movies.tolist() == [int(row[2]) for row in rows]
        assert np.array_equal(scores, np.array([float(row[3]) for row in rows], np.float32))


def test_a_cli_model_loads_with_its_dataset(cli_model, small_model, small_data):
    model_path, _ = cli_model
    loaded = flash_rec.load(model_path, dataset=small_data)
    assert np.array_equal(loaded.item_factors, small_model.item_factors)
    assert without_seconds(loaded.history) == without_seconds(small_model.history)
    assert all(epoch["seconds"] is None for epoch in loaded.history)
    user = int(small_data.user_ids[0])
    for mine, theirs in zip(loaded.recommend(user), small_model.recommend(user)):
        assert np.array_equal(mine, theirs)


def test_tune_gives_the_cli_document(cli, cli_cache, small_data):
    flags = ["--trials", "3", "--epochs", "3", "--factor-choices", "4,8", "--seed", "5"]
    expected = cli.json("tune", "--data", cli_cache, *flags)
    base = flash_rec.ALS(epochs=3, seed=5)
    assert flash_rec.tune(small_data, base=base, trials=3, factor_choices=[4, 8]) == expected
    best = flash_rec.ALS.from_params(expected["best"]["params"])
    assert best.params == expected["best"]["params"]


def test_synth_writes_the_cli_file(cli, tmp_path):
    cli.run("synth", "--users", 50, "--items", 40, "--ratings", 600, "--seed", 9, "--out",
            tmp_path / "cli.csv")
    assert flash_rec.synth(tmp_path / "py.csv", users=50, items=40, ratings=600, seed=9) == 600
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
