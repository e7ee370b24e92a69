"""The exceptions of flash_rec, raised by the compiled module.

Every error of the package's own derives from ``FlashRecError``; those about a bad value also
derive from ``ValueError``, and an unknown id from ``KeyError``, so callers can catch either
way. Missing or unreadable files raise the built-in ``FileNotFoundError`` / ``OSError`` with
the path as ``filename``.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "FlashRecError",
    "DataError",
    "CacheError",
    "ModelFileError",
    "ParameterError",
    "TrainingError",
    "UnknownIdError",
    "NotFittedError",
    "DatasetMismatchError",
    "MissingFeaturesError",
]


class FlashRecError(Exception):
    """Base class of every error flash_rec raises itself.

    ``message`` is the full text; keyword arguments become attributes of the same name.
    """

    def __init__(self, message: str, **attributes: object) -> None:
        super().__init__(message)
        self.message = message
        for name, value in attributes.items():
            setattr(self, name, value)

    def __str__(self) -> str:
        return self.message


class DataError(FlashRecError, ValueError):
    """Bad input data: a value, line or column that breaks the rules of a ratings source.

    Attributes: ``path`` (the file, or a name such as "DataFrame" for in-memory data),
    ``line`` (1-based, text files, header included) or ``row`` (1-based, Parquet and in-memory
    data), ``value`` (the offending text) and ``reason`` (the rule it breaks); those that do not
    apply are None.
    """

    path: Optional[str] = None
    line: Optional[int] = None
    row: Optional[int] = None
    value: Optional[str] = None
    reason: Optional[str] = None


class CacheError(FlashRecError):
    """A cache folder that is not a cache, is damaged, or is stale (its sources changed).

    Attributes: ``path`` and ``reason``.
    """

    path: Optional[str] = None
    reason: Optional[str] = None


class ModelFileError(FlashRecError):
    """A model file that is not one, is of another version, or is damaged.

    Attributes: ``path`` and ``reason``.
    """

    path: Optional[str] = None
    reason: Optional[str] = None


class ParameterError(FlashRecError, ValueError):
    """A hyper-parameter or an option outside its domain (factors 0, lam <= 0, ...)."""


class TrainingError(FlashRecError):
    """Training could not finish: a row's normal equations were not positive definite or its
    factors overflowed.

    Attributes: ``side`` ("user" or "item") and ``id`` (the original id), when known.
    """

    side: Optional[str] = None
    id: Optional[int] = None


class UnknownIdError(FlashRecError, KeyError):
    """A user or movie id that the model or dataset does not know.

    Attributes: ``kind`` ("user" or "movie") and ``id``.
    """

    kind: Optional[str] = None
    id: Optional[int] = None


class NotFittedError(FlashRecError, RuntimeError):
    """A model used before ``fit`` or ``flash_rec.load``."""


class DatasetMismatchError(FlashRecError, ValueError):
    """A model used with a dataset of other users or items than it was trained on."""


class MissingFeaturesError(FlashRecError, LookupError):
    """Movie features (titles, genres) asked of ratings that did not come from MovieLens."""
