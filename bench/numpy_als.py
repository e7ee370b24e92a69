"""Biased ALS in NumPy, written as Python users write it: a loop over rows, numpy.linalg.solve.

The same algorithm as flash-rec's (crates/als-core/src/update.rs): per half-epoch every item,
then every user; each row first its bias, then its vector, each the exact minimiser given the
rest. It reads a cache written by `flash-rec prepare` (the same train/test split), trains with
the given parameters, and prints one JSON document: seconds per epoch and the test RMSE.

With --flash-rec-epochs N it then trains flash_rec (the Python package) on the same cache with
the same parameters in this same process, so that neither figure includes a process start:

    PYTHONPATH=target/python-build python bench/numpy_als.py --data CACHE --factors 10 \
        --epochs 3 --seed-formulation --flash-rec-epochs 30 --threads 2

`cargo xtask bench` runs it to measure flash-rec against it; it is a reference for speed and
accuracy, not part of the product.
"""

import argparse
import json
import struct
import sys
import time
from pathlib import Path

import numpy as np

HEADER_LEN = 64


def read_csr(path):
    """A ratings matrix from the project's container format (crates/matrix/src/container.rs):
    a 64-byte header with three u64 dimensions, then a section table and the sections
    (indptr u64, indices u32, values f32), each padded to 8 bytes."""
    data = Path(path).read_bytes()
    if data[:8] != b"FLASHREC":
        sys.exit(f"{path}: not a flash-rec file")
    n_rows, n_cols, nnz = struct.unpack_from("<3Q", data, 16)
    (count,) = struct.unpack_from("<Q", data, HEADER_LEN)
    lengths = struct.unpack_from(f"<{count}Q", data, HEADER_LEN + 8)
    offset = HEADER_LEN + 8 + 8 * count
    sections = []
    for length in lengths:
        sections.append(data[offset : offset + length])
        offset += (length + 7) // 8 * 8
    indptr = np.frombuffer(sections[0], dtype="<u8").astype(np.int64)
    indices = np.frombuffer(sections[1], dtype="<u4").astype(np.int64)
    values = np.frombuffer(sections[2], dtype="<f4").astype(np.float64)
    assert len(indptr) == n_rows + 1 and len(indices) == nnz
    return n_rows, n_cols, indptr, indices, values


def half_epoch(indptr, indices, values, own, own_bias, other, other_bias, mu, p):
    """Updates every row of one side (own, own_bias) from the other side, in place."""
    k = own.shape[1]
    eye = np.eye(k)
    for row in range(len(indptr) - 1):
        start, end = indptr[row], indptr[row + 1]
        n = end - start
        if n == 0:
            own[row] = 0.0
            own_bias[row] = 0.0
            continue
        cols = indices[start:end]
        v = other[cols]
        e = values[start:end] - mu - other_bias[cols]
        weight = n if p["scaled"] else 1.0
        bias = p["lam"] * np.sum(e - v @ own[row]) / (p["lam"] * n + p["gamma"] * weight)
        a = p["lam"] * (v.T @ v) + p["tau"] * weight * eye
        own[row] = np.linalg.solve(a, p["lam"] * (v.T @ (e - bias)))
        own_bias[row] = bias


def rmse(indptr, indices, values, users, items, user_bias, item_bias, mu):
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    predicted = mu + user_bias[rows] + item_bias[indices]
    predicted += np.einsum("ij,ij->i", users[rows], items[indices])
    return float(np.sqrt(np.mean((values - predicted) ** 2)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a cache written by flash-rec prepare")
    parser.add_argument("--factors", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed-formulation", action="store_true",
                        help="lambda 0.01, tau 0.1, gamma 0.1, no global mean, fixed penalties")
    parser.add_argument("--lam", type=float, default=0.01)
    parser.add_argument("--tau", type=float, default=0.1)
    parser.add_argument("--gamma", type=float, default=0.1)
    parser.add_argument("--flash-rec-epochs", type=int, default=0,
                        help="then train flash_rec this many epochs in this process")
    parser.add_argument("--threads", type=int, default=0, help="flash_rec's threads")
    args = parser.parse_args()

    data = Path(args.data)
    n_users, n_items, u_ptr, u_idx, u_val = read_csr(data / "train.by_user.bin")
    _, _, i_ptr, i_idx, i_val = read_csr(data / "train.by_item.bin")
    _, _, t_ptr, t_idx, t_val = read_csr(data / "test.by_user.bin")

    p = {"lam": args.lam, "tau": args.tau, "gamma": args.gamma, "scaled": False}
    mu = 0.0 if args.seed_formulation else float(np.mean(u_val))
    k = args.factors
    rng = np.random.default_rng(42)
    users = rng.normal(0.0, 1.0 / np.sqrt(k), (n_users, k))
    items = rng.normal(0.0, 1.0 / np.sqrt(k), (n_items, k))
    user_bias = np.zeros(n_users)
    item_bias = np.zeros(n_items)

    seconds = []
    for _ in range(args.epochs):
        started = time.perf_counter()
        half_epoch(i_ptr, i_idx, i_val, items, item_bias, users, user_bias, mu, p)
        half_epoch(u_ptr, u_idx, u_val, users, user_bias, items, item_bias, mu, p)
        seconds.append(time.perf_counter() - started)

    try:
        from threadpoolctl import threadpool_info

        blas = [
            {key: info.get(key) for key in ("internal_api", "version", "architecture",
                                             "num_threads")}
            for info in threadpool_info()
        ]
    except ImportError:
        blas = None
    flash = None
    if args.flash_rec_epochs:
        flash = train_flash_rec(args, global_mean=not args.seed_formulation)
    print(json.dumps({
        "flash_rec": flash,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "blas": blas,
        "factors": k,
        "epoch_seconds": seconds,
        "train_rmse": rmse(u_ptr, u_idx, u_val, users, items, user_bias, item_bias, mu),
        "test_rmse": rmse(t_ptr, t_idx, t_val, users, items, user_bias, item_bias, mu),
    }))


def train_flash_rec(args, global_mean):
    """flash_rec's epochs on the same cache and parameters; `seconds` of its history, like the
    NumPy figures, time the two half-epochs and nothing else."""
    import flash_rec

    data = flash_rec.Dataset.open(args.data)
    model = flash_rec.ALS(
        factors=args.factors, epochs=args.flash_rec_epochs, lam=args.lam, tau=args.tau,
        gamma=args.gamma, global_mean=global_mean, regularization="fixed", seed=42,
        threads=args.threads,
    )
    history = model.fit(data, progress=False)
    return {
        "epoch_seconds": [epoch["seconds"] for epoch in history],
        "test_rmse": history[-1]["test_rmse"],
        "threads": args.threads,
    }


if __name__ == "__main__":
    main()
