"""The model object: parameters, zero-copy factor views, save/load, predict, callbacks and
the progress bar, and the errors of its methods."""

from __future__ import annotations

import gc
import io
from pathlib import Path

import numpy as np
import pytest
from conftest import SMALL, without_seconds

import flash_rec


def test_parameters_are_checked_before_any_work():
    for bad in (dict(factors=0), dict(epochs=0), dict(lam=0.0), dict(tau=-1.0),
                dict(gamma=float("nan")), dict(regularization="huber"),
                dict(early_stopping=(0, 0.1))):
        with pytest.raises(flash_rec.ParameterError):
            flash_rec.ALS(**bad)
    with pytest.raises(TypeError):
        flash_rec.ALS(32)  # keyword-only


def test_parameters_round_trip_through_their_dict():
    model = flash_rec.ALS(factors=12, lam=0.5, regularization="fixed", early_stopping=(2, 0.01))
    assert (model.factors, model.lam, model.regularization) == (12, 0.5, "fixed")
    assert model.early_stopping == (2, 0.01)
    assert model.params["lambda"] == 0.5
    assert flash_rec.ALS.from_params(model.params).params == model.params
    seed = flash_rec.ALS.seed_formulation(factors=4)
    assert (seed.factors, seed.lam, seed.global_mean, seed.regularization) == (
        4, 0.01, False, "fixed")
    with pytest.raises(flash_rec.ParameterError):
        flash_rec.ALS.from_params({"factors": 3})
    assert "factors=12" in repr(model)


def test_factor_views_are_read_only_and_copy_nothing(small_model, small_data):
    user_factors = small_model.user_factors
    assert user_factors.shape == (small_data.n_users, SMALL["factors"])
    assert user_factors.dtype == np.float32
    assert not user_factors.flags.writeable and not user_factors.flags.owndata
    with pytest.raises(ValueError):
        user_factors[0, 0] = 1.0
    with pytest.raises(ValueError):
        user_factors.setflags(write=True)
    assert np.shares_memory(user_factors, small_model.user_factors)
    for view in (small_model.item_factors, small_model.user_bias, small_model.item_bias,
                 small_model.user_ids, small_data.user_ids):
        assert not view.flags.writeable and not view.flags.owndata
    assert small_model.item_bias.shape == (small_data.n_items,)
    assert np.array_equal(small_model.user_ids, small_data.user_ids)


def test_views_outlive_a_refit_and_the_model(small_data):
    model = flash_rec.ALS(factors=4, epochs=2, seed=1)
    model.fit(small_data)
    before = model.item_factors
    saved = before.copy()
    model.fit(small_data)  # same seed: same numbers, but a new buffer
    assert not np.shares_memory(before, model.item_factors)
    assert np.array_equal(before, model.item_factors)
    del model
    gc.collect()
    assert np.array_equal(before, saved)


def test_predict_is_the_model_formula(small_model, small_data):
    users, items, _ = small_data.test_ratings()
    predicted = small_model.predict(users, items)
    assert predicted.dtype == np.float32 and predicted.shape == users.shape
    u = np.searchsorted(small_model.user_ids, users)
    i = np.searchsorted(small_model.item_ids, items)
    expected = (small_model.mu + small_model.user_bias[u] + small_model.item_bias[i]
                + np.einsum("ij,ij->i", small_model.user_factors[u], small_model.item_factors[i]))
    assert np.allclose(predicted, expected, rtol=1e-5, atol=1e-5)
    one = small_model.predict(int(users[0]), int(items[0]))
    assert one.tolist() == [predicted[0]]
    row = small_model.predict(int(users[0]), items[:3])
    assert row.shape == (3,)
    errors = predicted - small_data.test_ratings()[2]
    rmse = float(np.sqrt(np.mean(errors.astype(np.float64) ** 2)))
    assert rmse == pytest.approx(small_model.evaluate(small_data)["rmse"], rel=1e-5)


def test_unknown_ids_raise_unknown_id_errors(small_model, small_data):
    with pytest.raises(flash_rec.UnknownIdError) as caught:
        small_model.recommend(-1)
    assert (caught.value.kind, caught.value.id) == ("user", -1)
    assert isinstance(caught.value, KeyError)
    assert str(caught.value) == "unknown user id -1"
    with pytest.raises(flash_rec.UnknownIdError, match="movie id -7"):
        small_model.similar(-7)
    with pytest.raises(flash_rec.UnknownIdError):
        small_model.predict([int(small_data.user_ids[0])], [-3])
    with pytest.raises(flash_rec.UnknownIdError):
        small_model.recommend_new({-3: 4.0})
    with pytest.raises(flash_rec.DataError, match="whole number"):
        small_model.predict([1.5], [1])
    with pytest.raises(flash_rec.MissingFeaturesError):
        small_model.recommend(int(small_data.user_ids[0]), genres=["Drama"])
    with pytest.raises(flash_rec.MissingFeaturesError):
        small_data.features(1)


def test_an_unfitted_model_and_a_foreign_dataset_are_refused(small_model, tmp_path):
    fresh = flash_rec.ALS()
    assert not fresh.is_fitted
    for call in (lambda: fresh.recommend(1), lambda: fresh.user_factors,
                 lambda: fresh.save(tmp_path / "m.flash"), lambda: fresh.history):
        with pytest.raises(flash_rec.NotFittedError):
            call()
    other = flash_rec.Dataset.from_ratings(([1, 1, 2], [1, 2, 1], [3, 4, 5]))
    with pytest.raises(flash_rec.DatasetMismatchError):
        small_model.evaluate(other)
    small_model.save(tmp_path / "m.flash")
    with pytest.raises(flash_rec.DatasetMismatchError):
        flash_rec.load(tmp_path / "m.flash", dataset=other)
    alone = flash_rec.load(tmp_path / "m.flash")
    user = int(small_model.user_ids[0])
    with pytest.raises(flash_rec.ParameterError, match="dataset"):
        alone.recommend(user)
    seen_too = alone.recommend(user, exclude_seen=False)
    assert seen_too[0].size == 10


def test_save_and_load_round_trip(small_model, small_data, tmp_path):
    small_model.save(tmp_path / "m.flash")
    loaded = flash_rec.load(str(tmp_path / "m.flash"), dataset=small_data)
    # The thread count is not part of the model (it never changes the factors): a loaded
    # model uses every core.
    assert loaded.params == {**small_model.params, "threads": 0}
    assert np.array_equal(loaded.user_factors, small_model.user_factors)
    assert loaded.mu == small_model.mu
    users, items, _ = small_data.test_ratings()
    assert np.array_equal(loaded.predict(users, items), small_model.predict(users, items))
    assert loaded.evaluate(small_data) == small_model.evaluate(small_data)


def test_threads_do_not_change_the_model(small_data, tmp_path):
    one = flash_rec.ALS(factors=6, epochs=3, threads=1)
    one.fit(small_data)
    every_core = flash_rec.ALS(factors=6, epochs=3, threads=0)
    every_core.fit(small_data)
    assert np.array_equal(one.user_factors, every_core.user_factors)
    assert one.evaluate(small_data) == every_core.evaluate(small_data)
    one.save(tmp_path / "one.flash")
    every_core.save(tmp_path / "every-core.flash")
    assert (tmp_path / "one.flash").read_bytes() == (tmp_path / "every-core.flash").read_bytes()


def test_the_callback_sees_each_epoch_and_can_stop(small_data):
    seen = []
    model = flash_rec.ALS(factors=4, epochs=6)
    history = model.fit(small_data, callback=lambda epoch: seen.append(epoch) or None)
    assert seen == history and [e["epoch"] for e in history] == [1, 2, 3, 4, 5, 6]
    assert set(history[0]) == {"epoch", "loss", "train_rmse", "test_rmse", "seconds"}

    stopped = model.fit(small_data, callback=lambda epoch: epoch["epoch"] < 3)
    assert len(stopped) == 3 and len(model.history) == 3
    three_epochs = flash_rec.ALS(factors=4, epochs=3)
    three_epochs.fit(small_data)
    assert np.array_equal(model.user_factors, three_epochs.user_factors)

    def failing(epoch):
        raise RuntimeError(f"stop at {epoch['epoch']}")

    with pytest.raises(RuntimeError, match="stop at 1"):
        model.fit(small_data, callback=failing)
    assert len(model.history) == 3  # the model of the last successful fit


def test_early_stopping_keeps_the_best_epoch(small_data):
    # No epoch improves the test RMSE by 10: training stops after the second, keeping the first.
    model = flash_rec.ALS(factors=4, epochs=10, early_stopping=(1, 10.0))
    history = model.fit(small_data)
    assert [epoch["epoch"] for epoch in history] == [1, 2]
    assert model.evaluate(small_data)["rmse"] == history[0]["test_rmse"]


def test_the_progress_bar_shows_only_when_asked_or_watched(small_data, monkeypatch):
    pytest.importorskip("tqdm")
    import sys

    from flash_rec import _progress

    epochs_shown = []
    show = _progress.EpochBar.epoch
    monkeypatch.setattr(_progress.EpochBar, "epoch",
                        lambda bar, stats: epochs_shown.append(stats["epoch"]) or show(bar, stats))
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stderr", captured)
    model = flash_rec.ALS(factors=4, epochs=3)
    model.fit(small_data)
    assert captured.getvalue() == "" and epochs_shown == []  # not a terminal: no bar
    model.fit(small_data, progress=True)
    assert "training" in captured.getvalue() and epochs_shown == [1, 2, 3]
    model.fit(small_data, progress=False)
    assert epochs_shown == [1, 2, 3]


def test_history_without_a_fit_has_no_timings(small_model, small_data, tmp_path):
    small_model.save(tmp_path / "m.flash")
    loaded = flash_rec.load(tmp_path / "m.flash")
    assert without_seconds(loaded.history) == without_seconds(small_model.history)
    assert [e["seconds"] for e in loaded.history] == [None] * SMALL["epochs"]
    assert loaded.dataset is None and small_model.dataset.path == small_data.path


def test_recommend_all_covers_every_user_without_seen_items(small_model, small_data):
    users, ranks, movies, scores = small_model.recommend_all(k=4)
    assert users.size == 4 * small_data.n_users
    assert ranks[:4].tolist() == [1, 2, 3, 4]
    seen = set(zip(*[a.tolist() for a in small_data.train_ratings()[:2]]))
    assert not any((u, m) in seen for u, m in zip(users.tolist(), movies.tolist()))
    first = small_model.recommend(int(users[0]), k=4)
    assert np.array_equal(first[0], movies[:4])
    # One user's scores are dot products; recommend_all's come from a blocked product that
    # sums in another order, so they agree to rounding, not to the bit.
    np.testing.assert_allclose(first[1], scores[:4], rtol=1e-6)
    unseen = small_model.recommend_all(k=4, exclude_seen=False)
    assert unseen[0].size == users.size


def test_a_frame_needs_pandas_only_when_asked(small_model):
    user = int(small_model.user_ids[0])
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pandas"):
            small_model.recommend(user, as_frame=True)
        return
    frame = small_model.recommend(user, k=3, as_frame=True)
    assert list(frame.columns) == ["movie_id", "score"]
    assert frame["movie_id"].tolist() == small_model.recommend(user, k=3)[0].tolist()


def test_training_failure_names_the_row():
    # As in als-core's numeric_robustness test: ratings at the top of f32 and biases pinned to
    # zero make an item's exact vector overflow f32 for most seeds; the error names its id.
    data = flash_rec.Dataset.from_ratings(
        ([10, 20, 30], [100, 200, 300], [3e38] * 3), scale=(0.0, 3.4e38), test_fraction=0.0
    )
    failures = []
    for seed in range(8):
        model = flash_rec.ALS(factors=1, epochs=2, lam=1.0, tau=1e-30, gamma=1e300,
                              global_mean=False, regularization="fixed", seed=seed, threads=1)
        try:
            model.fit(data)
        except flash_rec.TrainingError as error:
            failures.append(error)
    assert failures, "no seed overflowed: the test no longer exercises the error"
    for error in failures:
        assert error.side == "item" and error.id in (100, 200, 300)
        assert f"item id {error.id}" in str(error)


def test_cache_paths_are_plain_folders(small_data):
    assert Path(small_data.path, "manifest.json").is_file()
    assert repr(small_data).startswith("Dataset(")
