"""flash_rec: explicit-rating matrix factorisation by alternating least squares, in Rust.

The Python face of flash-rec: the same data preparation, training, recommendations and
metrics as the ``flash-rec`` command line, with the same numbers.

>>> import flash_rec
>>> data = flash_rec.MovieLens("data/ml-latest-small")          # doctest: +SKIP
>>> model = flash_rec.ALS(factors=32, epochs=20)                 # doctest: +SKIP
>>> history = model.fit(data)                                    # doctest: +SKIP
>>> movie_ids, scores = model.recommend(user_id=1, k=10)         # doctest: +SKIP
>>> model.evaluate(data)["rmse"]                                 # doctest: +SKIP

- ``MovieLens``, ``Dataset``: ratings prepared into a cache (from a MovieLens folder, a file,
  a DataFrame, arrays or a sparse matrix), memory-mapped.
- ``ALS``: hyper-parameters, ``fit``, recommendations, predictions, ``evaluate``, the factors
  as NumPy views, ``save``; ``load`` reads a model file.
- ``tune``: the search of ``flash-rec tune``; ``synth``: a synthetic ratings file.
- ``FlashRecError`` and its subclasses: every error of the package's own.

Training, ``recommend_all``, ``evaluate`` and ``tune`` release the GIL; ``threads=0`` uses
every core.
"""

from ._errors import (
    CacheError,
    DataError,
    DatasetMismatchError,
    FlashRecError,
    MissingFeaturesError,
    ModelFileError,
    NotFittedError,
    ParameterError,
    TrainingError,
    UnknownIdError,
)
from ._native import ALS, Dataset, MovieLens, load, synth, tune
from ._native import __version__ as __version__


__all__ = [
    "ALS",
    "Dataset",
    "MovieLens",
    "load",
    "tune",
    "synth",
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
