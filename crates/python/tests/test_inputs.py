"""Every kind of ratings input gives the dataset of the same ratings in a file; in-memory
caches are keyed by content; bad inputs raise the right exceptions, naming where."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import triples

import flash_rec

USERS = np.array([1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4], dtype=np.int64)
ITEMS = np.array([10, 20, 30, 10, 30, 40, 10, 20, 40, 50, 20, 30, 50], dtype=np.int64)
RATINGS = np.array([4, 3.5, 5, 2, 4.5, 3, 1, 2.5, 4, 5, 3, 3.5, 0.5])


@pytest.fixture(scope="module")
def from_file(tmp_path_factory) -> flash_rec.Dataset:
    """The ratings above written as a CSV file and prepared."""
    path = tmp_path_factory.mktemp("file") / "ratings.csv"
    lines = ["userId,movieId,rating"]
    lines += [f"{u},{i},{r}" for u, i, r in zip(USERS, ITEMS, RATINGS)]
    path.write_text("\n".join(lines) + "\n")
    return flash_rec.Dataset.from_ratings(path)


def same_split(dataset: flash_rec.Dataset, expected: flash_rec.Dataset) -> None:
    assert triples(dataset.train_ratings()) == triples(expected.train_ratings())
    assert triples(dataset.test_ratings()) == triples(expected.test_ratings())
    assert np.array_equal(dataset.user_ids, expected.user_ids)
    assert dataset.n_test > 0


def test_arrays_dicts_and_2d_arrays_give_the_file_dataset(from_file):
    same_split(flash_rec.Dataset.from_ratings((USERS, ITEMS, RATINGS)), from_file)
    same_split(flash_rec.Dataset.from_ratings([USERS.tolist(), ITEMS.astype(float), RATINGS]),
               from_file)
    named = {"UserId": USERS, "item_id": ITEMS, "rating": RATINGS}
    same_split(flash_rec.Dataset.from_ratings(named), from_file)
    same_split(flash_rec.Dataset.from_ratings(np.column_stack([USERS, ITEMS, RATINGS])),
               from_file)


def test_pandas_and_polars_frames_give_the_file_dataset(from_file):
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"userId": USERS, "movieId": ITEMS, "rating": RATINGS})
    same_split(flash_rec.Dataset.from_ratings(frame), from_file)
    polars = pytest.importorskip("polars")
    frame = polars.DataFrame({"user": USERS, "movie_id": ITEMS, "rating": RATINGS})
    same_split(flash_rec.Dataset.from_ratings(frame), from_file)
    same_split(flash_rec.Dataset.from_ratings(frame.lazy()), from_file)


def test_a_sparse_matrix_gives_the_file_dataset(from_file):
    sparse = pytest.importorskip("scipy.sparse")
    matrix = sparse.csr_matrix((RATINGS, (USERS, ITEMS)), shape=(5, 60))
    same_split(flash_rec.Dataset.from_ratings(matrix), from_file)


def test_timestamps_decide_which_duplicate_stays():
    users, items = [1, 1, 1, 2, 2], [10, 10, 20, 10, 20]
    ratings, stamps = [2.0, 4.0, 3.0, 1.0, 5.0], [50, 10, 20, 1, 2]
    data = flash_rec.Dataset.from_ratings((users, items, ratings, stamps), test_fraction=0.0)
    assert triples(data.train_ratings())[(1, 10)] == 2.0
    assert data.info()["duplicates_dropped"] == 1
    with pytest.raises(flash_rec.DataError, match="twice") as caught:
        flash_rec.Dataset.from_ratings((users, items, ratings), on_duplicate="error")
    assert caught.value.row == 2


def test_in_memory_caches_are_keyed_by_content(private_cache_root: Path):
    first = flash_rec.Dataset.from_ratings((USERS, ITEMS, RATINGS))
    again = flash_rec.Dataset.from_ratings((USERS.copy(), ITEMS.copy(), RATINGS.copy()))
    assert again.path == first.path
    assert Path(first.path).parent == private_cache_root
    changed = RATINGS.copy()
    changed[0] = 1.0
    other = flash_rec.Dataset.from_ratings((USERS, ITEMS, changed))
    assert other.path != first.path
    resplit = flash_rec.Dataset.from_ratings((USERS, ITEMS, RATINGS), seed=1)
    assert resplit.path != first.path


def test_a_file_cache_is_reused_until_the_file_changes(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_text("user,item,rating\n1,1,4\n1,2,3\n2,1,5\n2,2,2\n")
    first = flash_rec.Dataset.from_ratings(path, test_fraction=0.0)
    manifest = Path(first.path) / "manifest.json"
    written = manifest.stat().st_mtime_ns
    assert flash_rec.Dataset.from_ratings(str(path), test_fraction=0.0).path == first.path
    assert manifest.stat().st_mtime_ns == written
    path.write_text("user,item,rating\n1,1,4\n1,2,3\n2,1,5\n2,2,1\n")
    again = flash_rec.Dataset.from_ratings(path, test_fraction=0.0)
    assert triples(again.train_ratings())[(2, 2)] == 1.0


def test_a_bad_line_names_the_file_line_and_value(tmp_path: Path):
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating\n1,10,4.0\n1,20,seven\n2,10,3\n")
    with pytest.raises(flash_rec.DataError) as caught:
        flash_rec.Dataset.from_ratings(path)
    error = caught.value
    assert isinstance(error, ValueError) and isinstance(error, flash_rec.FlashRecError)
    assert error.path == str(path) and error.line == 3 and error.value == "seven"
    assert "line 3" in str(error) and "seven" in str(error)

    path.write_text("userId,movieId,rating\n1,10,4.0\n1,20,9.5\n")
    with pytest.raises(flash_rec.DataError, match="outside the scale") as caught:
        flash_rec.Dataset.from_ratings(path)
    assert (caught.value.line, caught.value.value) == (3, "9.5")
    assert flash_rec.Dataset.from_ratings(path, scale=(1, 10), test_fraction=0.0).n_train == 2


def test_bad_in_memory_values_name_the_row():
    with pytest.raises(flash_rec.DataError, match="row 2") as caught:
        flash_rec.Dataset.from_ratings(([1, 2, 3], [1, 1.5, 2], [3, 3, 3]))
    assert (caught.value.row, caught.value.value) == (2, "1.5")
    with pytest.raises(flash_rec.DataError) as caught:
        flash_rec.Dataset.from_ratings(([1, 2, 3], [1, 2, 3], [3, 7, 3]))
    assert caught.value.row == 2 and caught.value.path == "arrays"
    with pytest.raises(flash_rec.DataError, match="not finite"):
        flash_rec.Dataset.from_ratings(([1, 2], [1, 2], [3, float("nan")]))
    with pytest.raises(flash_rec.DataError, match="missing user id"):
        flash_rec.Dataset.from_ratings((np.array([1, None], dtype=object), [1, 2], [3, 3]))
    with pytest.raises(flash_rec.DataError, match="differ in length"):
        flash_rec.Dataset.from_ratings(([1, 2], [1], [3, 3]))
    with pytest.raises(flash_rec.DataError, match="no rating column"):
        flash_rec.Dataset.from_ratings({"user": [1], "item": [2], "stars": [3]})
    with pytest.raises(TypeError, match="ratings must be"):
        flash_rec.Dataset.from_ratings(42)


def test_missing_files_raise_file_not_found(tmp_path: Path):
    for call in (
        lambda: flash_rec.Dataset.from_ratings(tmp_path / "nowhere.csv"),
        lambda: flash_rec.MovieLens(tmp_path / "ml-nowhere"),
        lambda: flash_rec.Dataset.open(tmp_path / "no-cache"),
        lambda: flash_rec.load(tmp_path / "no-model.flash"),
    ):
        with pytest.raises(FileNotFoundError) as caught:
            call()
        assert str(tmp_path) in str(caught.value)


def test_bad_options_raise_parameter_errors(tmp_path: Path):
    arrays = (USERS, ITEMS, RATINGS)
    for options in (
        dict(test_fraction=1.5), dict(sep="ab"), dict(on_duplicate="newest"),
        dict(scale=(5, 1)),
    ):
        with pytest.raises(flash_rec.ParameterError):
            flash_rec.Dataset.from_ratings(arrays, **options)
    with pytest.raises(flash_rec.ParameterError, match="test= is for files"):
        flash_rec.Dataset.from_ratings(arrays, test=tmp_path / "t.csv")
    with pytest.raises(flash_rec.ParameterError):
        flash_rec.synth(tmp_path / "s.csv", users=0, items=1, ratings=1)


def test_a_damaged_cache_or_model_file_raises_its_error(small_model, tmp_path: Path):
    (tmp_path / "not-a-cache").mkdir()
    (tmp_path / "not-a-cache" / "x").write_text("x")
    with pytest.raises(flash_rec.CacheError, match="manifest"):
        flash_rec.Dataset.open(tmp_path / "not-a-cache")

    data = flash_rec.Dataset.from_ratings((USERS, ITEMS, RATINGS), cache=tmp_path / "cache")
    users_file = Path(data.path) / "users.bin"
    raw = bytearray(users_file.read_bytes())
    raw[-1] ^= 0xFF
    users_file.write_bytes(bytes(raw))
    with pytest.raises(flash_rec.CacheError) as caught:
        flash_rec.Dataset.open(data.path)
    assert "users.bin" in str(caught.value)

    (tmp_path / "garbage.flash").write_bytes(b"not a model" * 20)
    with pytest.raises(flash_rec.ModelFileError) as caught:
        flash_rec.load(tmp_path / "garbage.flash")
    assert caught.value.path == str(tmp_path / "garbage.flash")
    small_model.save(tmp_path / "good.flash")
    raw = bytearray((tmp_path / "good.flash").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "bad.flash").write_bytes(bytes(raw))
    with pytest.raises(flash_rec.ModelFileError, match="damaged"):
        flash_rec.load(tmp_path / "bad.flash")
