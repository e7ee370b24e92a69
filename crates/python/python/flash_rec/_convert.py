"""In-memory ratings to the NumPy columns the compiled module prepares.

pandas, polars and SciPy are never imported here: their objects are recognised by the module
their type comes from, and read through their own methods, so none of them is a dependency.
Rows are counted from 1 in messages, as for Parquet files.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ._errors import DataError, ParameterError

# The accepted column names, compared without regard to case: those of a file header.
_ALIASES = {
    "user": ("userid", "user", "user_id"),
    "item": ("movieid", "itemid", "item", "item_id", "movie_id"),
    "rating": ("rating",),
    "timestamp": ("timestamp",),
}

Columns = Tuple[str, np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray]]


def to_columns(data: Any) -> Columns:
    """``(name, users, items, ratings, timestamps)`` of a DataFrame, a dict of arrays, a tuple
    of arrays, a 2-D array or a SciPy sparse matrix; int64, int64, float64, int64 or None."""
    package = type(data).__module__.split(".")[0]
    if package == "pandas" and hasattr(data, "columns"):
        named = {str(name): data[name].to_numpy() for name in data.columns}
        return _from_named(named, "DataFrame")
    if package == "polars" and hasattr(data, "lazy"):
        if hasattr(data, "collect"):  # a LazyFrame
            data = data.collect()
        named = {str(name): data[name].to_numpy() for name in data.columns}
        return _from_named(named, "polars DataFrame")
    if package == "scipy" and hasattr(data, "tocoo"):
        coo = data.tocoo()
        name = "sparse matrix"
        return name, ids(coo.row, "user id", name), ids(coo.col, "item id", name), \
            _ratings(coo.data, name), None
    if isinstance(data, dict):
        return _from_named({str(k): v for k, v in data.items()}, "dict of arrays")
    if isinstance(data, (tuple, list)):
        return _from_sequence(data, "arrays")
    if isinstance(data, np.ndarray) and data.ndim == 2:
        return _from_sequence(list(data.T), "array")
    raise TypeError(
        "ratings must be a file path, a pandas or polars DataFrame, a dict or tuple of arrays "
        f"(user, item, rating[, timestamp]), a 2-D array or a SciPy sparse matrix, not "
        f"{type(data).__name__}"
    )


def _from_sequence(columns: Sequence[Any], name: str) -> Columns:
    if len(columns) not in (3, 4):
        raise ParameterError(
            f"{name}: expected (users, items, ratings[, timestamps]), got {len(columns)} arrays"
        )
    timestamps = _timestamps(columns[3], name) if len(columns) == 4 else None
    return (
        name,
        ids(columns[0], "user id", name),
        ids(columns[1], "item id", name),
        _ratings(columns[2], name),
        timestamps,
    )


def _from_named(named: Dict[str, Any], name: str) -> Columns:
    def find(role: str) -> Optional[str]:
        for column in named:
            if column.strip().lower() in _ALIASES[role]:
                return column
        return None

    def column(role: str) -> Any:
        found = find(role)
        if found is None:
            listed = ", ".join(list(named)[:20])
            reason = f"no {role} column (one of {', '.join(_ALIASES[role])}); it has {listed}"
            raise DataError(f"{name}: {reason}", path=name, reason=reason)
        return named[found]

    users, items, ratings = column("user"), column("item"), column("rating")
    timestamp = find("timestamp")
    return (
        name,
        ids(users, "user id", name),
        ids(items, "item id", name),
        _ratings(ratings, name),
        _timestamps(named[timestamp], name) if timestamp is not None else None,
    )


def _bad(name: str, row: int, value: Any, reason: str) -> DataError:
    shown = str(value)
    return DataError(
        f"{name}: row {row + 1}: {reason}: '{shown}'", path=name, row=row + 1, value=shown,
        reason=reason,
    )


def ids(values: Any, what: str, name: str = "ids") -> np.ndarray:
    """Whole-number ids as a contiguous 1-D int64 array (a scalar becomes one id).

    Floats must be whole and finite, objects Python or NumPy integers; anything else is a
    ``DataError`` naming the first bad row and value."""
    array = np.asarray(values)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ParameterError(f"{name}: {what}s must be one-dimensional, not of shape {array.shape}")
    kind = array.dtype.kind
    if kind == "i":
        return np.ascontiguousarray(array, dtype=np.int64)
    if kind == "u":
        too_big = array > np.iinfo(np.int64).max
        if too_big.any():
            row = int(np.argmax(too_big))
            raise _bad(name, row, array[row], f"{what} does not fit in 64 bits")
        return np.ascontiguousarray(array, dtype=np.int64)
    if kind == "f":
        limit = 2.0**63
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(array) | (array != np.trunc(array)) | (np.abs(array) >= limit)
        if bad.any():
            row = int(np.argmax(bad))
            raise _bad(name, row, array[row], f"{what} is not a whole number")
        return np.ascontiguousarray(array, dtype=np.int64)
    if kind == "O":
        converted: List[int] = []
        for row, value in enumerate(array):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                missing = value is None or value != value
                reason = f"missing {what}" if missing else f"{what} is not an integer"
                raise _bad(name, row, value, reason)
            converted.append(int(value))
        return np.array(converted, dtype=np.int64)
    first = array[0] if len(array) else ""
    raise _bad(name, 0, first, f"{what} is not an integer ({array.dtype} column)")


def _ratings(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ParameterError(f"{name}: ratings must be one-dimensional, not of shape {array.shape}")
    if array.dtype.kind in "iuf":
        return np.ascontiguousarray(array, dtype=np.float64)
    converted = np.empty(len(array), dtype=np.float64)
    for row, value in enumerate(array):
        if value is None:
            raise _bad(name, row, value, "missing rating")
        try:
            converted[row] = float(value)
        except (TypeError, ValueError):
            raise _bad(name, row, value, "rating is not a number") from None
    return converted


def _timestamps(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind == "M":
        return np.ascontiguousarray(array.astype("datetime64[ns]").view(np.int64))
    return ids(array, "timestamp", name)


def pairs(users: Any, items: Any) -> Tuple[np.ndarray, np.ndarray]:
    """``users`` and ``items`` broadcast against each other and flattened."""
    left, right = np.broadcast_arrays(np.atleast_1d(np.asarray(users)),
                                      np.atleast_1d(np.asarray(items)))
    return left.ravel(), right.ravel()
