"""recommend-all: flash_rec against a NumPy brute force, in one Python process.

The brute force is what a NumPy user writes: the score matrix U V^T + item biases, the train
items masked out, then argpartition and a sort of the top k per user. It goes through the users
in blocks so that the score matrix of a large data set (the ml-latest shape's would take 114 GB)
fits in memory; on ml-latest-small one block holds every user. Both get the same model and must
return the same lists; the share of users whose lists agree is printed (scores that tie to the
last bit may swap). Each side runs three times and its fastest run counts (the first NumPy run
also starts BLAS's threads), but for a large data set, where NumPy runs once.

    PYTHONPATH=target/python-build python bench/recommend_all_numpy.py CACHE MODEL [K]

Prints one JSON document; `cargo xtask bench` runs it.
"""

import json
import sys
import time

import numpy as np

import flash_rec

# Scores per NumPy block (float32): 256 MB.
BLOCK_SCORES = 1 << 26
# Above this many scores (users x items) NumPy's brute force runs once: it takes minutes.
REPEATED_SCORES = 1 << 30


def numpy_top_k(model, data, k):
    """Dense item indices of every user's top k, best first."""
    users, items = data.user_ids, data.item_ids
    train_users, train_items, _ = data.train_ratings()
    seen_rows = np.searchsorted(users, train_users)
    seen_cols = np.searchsorted(items, train_items)
    # Train ratings come sorted by user: each block's are one slice.
    bounds = np.searchsorted(seen_rows, np.arange(len(users) + 1))
    block = max(1, BLOCK_SCORES // len(items))
    result = np.empty((len(users), k), dtype=np.int64)
    for start in range(0, len(users), block):
        stop = min(start + block, len(users))
        scores = model.user_factors[start:stop] @ model.item_factors.T
        scores += model.item_bias[None, :]
        first, last = bounds[start], bounds[stop]
        scores[seen_rows[first:last] - start, seen_cols[first:last]] = -np.inf
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
        result[start:stop] = np.take_along_axis(top, order, axis=1)
    return result


def main():
    cache, model_path = sys.argv[1], sys.argv[2]
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    data = flash_rec.Dataset.open(cache)
    model = flash_rec.load(model_path, dataset=data)

    numpy_timings = []
    repeats = 3 if len(data.user_ids) * len(data.item_ids) <= REPEATED_SCORES else 1
    for _ in range(repeats):
        started = time.perf_counter()
        brute = data.item_ids[numpy_top_k(model, data, k)]
        numpy_timings.append(time.perf_counter() - started)

    timings = []
    for _ in range(3):
        started = time.perf_counter()
        _, _, movies, _ = model.recommend_all(k=k)
        timings.append(time.perf_counter() - started)

    mine = movies.reshape(-1, k)
    same = float(np.mean([set(a) == set(b) for a, b in zip(mine, brute)]))
    print(json.dumps({
        "users": len(data.user_ids),
        "items": len(data.item_ids),
        "factors": model.factors,
        "k": k,
        "numpy_seconds": numpy_timings,
        "flash_rec_seconds": timings,
        "same_lists": same,
    }))


if __name__ == "__main__":
    main()
