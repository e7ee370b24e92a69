"""On ml-latest-small: the CLI's numbers for training, metrics, features and genre filters,
and DataFrame output with titles (skipped loudly without the data, failed under
FLASH_REQUIRE_DATA=1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import without_seconds

import flash_rec

PARAMS = dict(factors=16, epochs=4, seed=11, threads=2)
FLAGS = ["--factors", "16", "--epochs", "4", "--seed", "11", "--threads", "2"]


@pytest.fixture(scope="module")
def prepared(movielens: Path, cli, tmp_path_factory):
    """(Python dataset, CLI cache, CLI model path, CLI train report, Python model)."""
    root = tmp_path_factory.mktemp("ml")
    data = flash_rec.MovieLens(movielens, cache=root / "python-cache")
    cli.run("prepare", "--movielens", movielens, "--out", root / "cli-cache")
    model_path = root / "model.flash"
    report = cli.json("train", "--data", root / "cli-cache", "--model", model_path, *FLAGS)
    model = flash_rec.ALS(**PARAMS)
    model.fit(data, progress=False)
    return data, root / "cli-cache", model_path, report, model


def test_movielens_training_and_metrics_match_the_cli(prepared, cli, tmp_path):
    data, cli_cache, model_path, report, model = prepared
    assert data.info() == cli.json("info", "--data", cli_cache)
    assert data.n_users == 610 and data.has_features
    assert without_seconds(model.history) == without_seconds(report["epochs"])
    model.save(tmp_path / "m.flash")
    assert (tmp_path / "m.flash").read_bytes() == model_path.read_bytes()
    assert model.evaluate(data) == cli.json("eval", "--data", cli_cache, "--model", model_path)


def test_features_are_the_cli_ones(prepared, cli):
    data, cli_cache, *_ = prepared
    for movie in (1, 318, 2571):
        assert data.features(movie) == cli.json("features", "--data", cli_cache, "--movie", movie)
    assert data.features(1)["title"] == "Toy Story (1995)"
    with pytest.raises(flash_rec.UnknownIdError):
        data.features(-5)


def test_genre_filters_match_the_cli(prepared, cli):
    data, cli_cache, model_path, _, model = prepared
    common = ["--data", cli_cache, "--model", model_path]
    expected = cli.json("recommend", *common, "--user", 1, "--genre", "Comedy",
                        "--exclude-genre", "Romance")
    ids, scores = model.recommend(1, genres=["comedy"], exclude_genres=["Romance"])
    assert ids.tolist() == [entry["movie_id"] for entry in expected["recommendations"]]
    assert np.array_equal(scores, np.array(
        [entry["score"] for entry in expected["recommendations"]], dtype=np.float32))
    for movie in ids.tolist():
        genres = data.features(movie)["genres"]
        assert "Comedy" in genres and "Romance" not in genres

    similar = cli.json("similar", *common, "--movie", 1, "--genre", "Animation", "-k", "5")
    ids, _ = model.similar(1, k=5, genres=["Animation"])
    assert ids.tolist() == [entry["movie_id"] for entry in similar["recommendations"]]


def test_frames_carry_titles(prepared):
    pandas = pytest.importorskip("pandas")
    data, *_, model = prepared
    frame = model.recommend(1, k=3, as_frame=True)
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == ["movie_id", "score", "title"]
    assert frame["title"].tolist() == [data.features(m)["title"] for m in frame["movie_id"]]
    everyone = model.recommend_all(k=2, as_frame=True)
    assert list(everyone.columns) == ["user_id", "rank", "movie_id", "score"]
    assert len(everyone) == 2 * data.n_users


def test_a_dataframe_of_the_ratings_file_gives_the_same_split(prepared, movielens: Path):
    pandas = pytest.importorskip("pandas")
    data = prepared[0]
    frame = pandas.read_csv(movielens / "ratings.csv")
    from_frame = flash_rec.Dataset.from_ratings(frame)
    for mine, theirs in zip(from_frame.train_ratings(), data.train_ratings()):
        assert np.array_equal(mine, theirs)
    for mine, theirs in zip(from_frame.test_ratings(), data.test_ratings()):
        assert np.array_equal(mine, theirs)
    assert not from_frame.has_features
