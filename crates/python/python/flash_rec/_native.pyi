"""Type stubs of flash_rec._native, the compiled module (checked against it by
tests/test_stubs.py: names, parameters, defaults and docstring summaries)."""

import os
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeAlias,
    Union,
    overload,
)

import numpy as np
import numpy.typing as npt

__version__: str

PathLike: TypeAlias = Union[str, os.PathLike[str]]
EpochDict: TypeAlias = Dict[str, Any]
Recommendations: TypeAlias = Tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]
RecommendationTable: TypeAlias = Tuple[
    npt.NDArray[np.int64], npt.NDArray[np.uint32], npt.NDArray[np.int64], npt.NDArray[np.float32]
]

class Dataset:
    """Ratings prepared into a cache folder: id maps, a seeded per-user train/test split, and the
    train matrix by user and by item, memory-mapped."""

    @staticmethod
    def open(path: PathLike) -> Dataset:
        """Opens a cache prepared before, here or by ``flash-rec prepare``."""
    @staticmethod
    def from_ratings(
        data: Any,
        *,
        test: Optional[PathLike] = None,
        test_fraction: float = 0.2,
        seed: int = 42,
        cache: Optional[PathLike] = None,
        sep: Optional[str] = None,
        has_header: bool = True,
        scale: Optional[Tuple[float, float]] = None,
        on_duplicate: Literal["keep-latest", "error"] = "keep-latest",
    ) -> Dataset:
        """Prepares ratings from a file, a DataFrame, NumPy arrays or a SciPy sparse matrix."""
    @property
    def path(self) -> str:
        """The cache folder."""
    @property
    def n_users(self) -> int:
        """Number of users (rows of the rating matrices)."""
    @property
    def n_items(self) -> int:
        """Number of items (columns of the rating matrices)."""
    @property
    def n_train(self) -> int:
        """Number of train ratings."""
    @property
    def n_test(self) -> int:
        """Number of test ratings."""
    @property
    def user_ids(self) -> npt.NDArray[np.int64]:
        """Original user ids in dense order (ascending), a read-only int64 view."""
    @property
    def item_ids(self) -> npt.NDArray[np.int64]:
        """Original item (movie) ids in dense order (ascending), a read-only int64 view."""
    @property
    def has_features(self) -> bool:
        """Whether movie features (titles, genres, tags) are available: MovieLens sources only."""
    def features(self, movie_id: int) -> Dict[str, Any]:
        """A movie's features: a dict with movie_id, title, genres, tags, imdb_id and tmdb_id."""
    def info(self) -> Dict[str, Any]:
        """The same dict as ``flash-rec info --json``: sizes, density, degree percentiles, etc."""
    def train_ratings(
        self,
    ) -> Tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The train ratings as ``(user_ids, item_ids, ratings)`` arrays of original ids."""
    def test_ratings(
        self,
    ) -> Tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The test ratings as ``(user_ids, item_ids, ratings)`` arrays of original ids."""

def MovieLens(
    path: PathLike,
    test_fraction: float = 0.2,
    seed: int = 42,
    cache: Optional[PathLike] = None,
) -> Dataset:
    """Prepares a MovieLens folder (ratings.csv, movies.csv, optional tags.csv and links.csv)."""

Regularization: TypeAlias = Literal["scaled-by-count", "scaled-factors", "fixed"]

class ALS:
    """Biased alternating least squares for explicit ratings (the model of ``flash-rec train``)."""

    def __init__(
        self,
        *,
        factors: Optional[int] = None,
        epochs: Optional[int] = None,
        lam: Optional[float] = None,
        tau: Optional[float] = None,
        gamma: Optional[float] = None,
        global_mean: Optional[bool] = None,
        regularization: Optional[Regularization] = None,
        seed: Optional[int] = None,
        threads: Optional[int] = None,
        early_stopping: Optional[Tuple[int, float]] = None,
    ) -> None: ...
    @staticmethod
    def seed_formulation(
        *,
        factors: Optional[int] = None,
        epochs: Optional[int] = None,
        lam: Optional[float] = None,
        tau: Optional[float] = None,
        gamma: Optional[float] = None,
        global_mean: Optional[bool] = None,
        regularization: Optional[Regularization] = None,
        seed: Optional[int] = None,
        threads: Optional[int] = None,
        early_stopping: Optional[Tuple[int, float]] = None,
    ) -> ALS:
        """The reference formulation (k 10, lam 0.01, tau 0.1, gamma 0.1, no global mean, fixed
        penalties, 20 epochs), as ``flash-rec train --seed-formulation``; keywords override."""
    @staticmethod
    def from_params(params: Mapping[str, Any]) -> ALS:
        """A model with the parameters of a ``params`` dict (as ``ALS.params`` gives, or the
        ``params`` of ``flash-rec train --json`` and of a ``tune`` trial)."""
    @property
    def factors(self) -> int:
        """Length k of each factor vector."""
    @property
    def epochs(self) -> int:
        """Number of epochs."""
    @property
    def lam(self) -> float:
        """Weight of the data term."""
    @property
    def tau(self) -> float:
        """Weight of the factor penalty."""
    @property
    def gamma(self) -> float:
        """Weight of the bias penalty."""
    @property
    def global_mean(self) -> bool:
        """Whether predictions include the mean train rating."""
    @property
    def regularization(self) -> Regularization:
        """``"scaled-by-count"``, ``"scaled-factors"`` or ``"fixed"``."""
    @property
    def seed(self) -> int:
        """Seed of the initial factors."""
    @property
    def threads(self) -> int:
        """Worker threads (0: one per core)."""
    @property
    def early_stopping(self) -> Optional[Tuple[int, float]]:
        """``(patience, min_delta)``, or None."""
    @property
    def params(self) -> Dict[str, Any]:
        """Every parameter as a dict, as ``flash-rec train --json`` prints them (``lambda`` for
        ``lam``)."""
    @property
    def is_fitted(self) -> bool:
        """Whether the model has been fitted or loaded."""
    def fit(
        self,
        dataset: Dataset,
        callback: Optional[Callable[[EpochDict], Optional[bool]]] = None,
        progress: Optional[bool] = None,
    ) -> List[EpochDict]:
        """Trains on ``dataset``'s train ratings, watching the RMSE on its test ratings."""
    @property
    def history(self) -> List[EpochDict]:
        """The per-epoch dicts of the last fit, or of the loaded model (``seconds`` is then
        None)."""
    def save(self, path: PathLike) -> None:
        """Writes the model file (the format of ``flash-rec train --model``), atomically."""
    @property
    def dataset(self) -> Optional[Dataset]:
        """The dataset the model was fitted on or loaded with, or None."""
    @property
    def mu(self) -> float:
        """``mu``: the mean train rating, or 0 without the global-mean term."""
    @property
    def user_factors(self) -> npt.NDArray[np.float32]:
        """User vectors, ``(n_users, factors)`` float32, a read-only view without copy."""
    @property
    def item_factors(self) -> npt.NDArray[np.float32]:
        """Item vectors, ``(n_items, factors)`` float32, a read-only view without copy."""
    @property
    def user_bias(self) -> npt.NDArray[np.float32]:
        """User biases, ``(n_users,)`` float32, a read-only view without copy."""
    @property
    def item_bias(self) -> npt.NDArray[np.float32]:
        """Item biases, ``(n_items,)`` float32, a read-only view without copy."""
    @property
    def user_ids(self) -> npt.NDArray[np.int64]:
        """Original user ids of the factor rows, a read-only int64 view."""
    @property
    def item_ids(self) -> npt.NDArray[np.int64]:
        """Original item ids of the factor rows, a read-only int64 view."""
    @overload
    def recommend(
        self,
        user_id: int,
        k: int = 10,
        *,
        item_bias_weight: float = 1.0,
        exclude_seen: bool = True,
        genres: Optional[Sequence[str]] = None,
        exclude_genres: Optional[Sequence[str]] = None,
        allow: Optional[Sequence[int]] = None,
        deny: Optional[Sequence[int]] = None,
        as_frame: Literal[False] = False,
    ) -> Recommendations:
        """Top-k movies for a known user, as ``flash-rec recommend --user``."""
    @overload
    def recommend(
        self,
        user_id: int,
        k: int = 10,
        *,
        item_bias_weight: float = 1.0,
        exclude_seen: bool = True,
        genres: Optional[Sequence[str]] = None,
        exclude_genres: Optional[Sequence[str]] = None,
        allow: Optional[Sequence[int]] = None,
        deny: Optional[Sequence[int]] = None,
        as_frame: Literal[True],
    ) -> Any: ...
    @overload
    def recommend_new(
        self,
        ratings: Union[Mapping[int, float], Iterable[Tuple[int, float]]],
        k: int = 10,
        *,
        item_bias_weight: float = 1.0,
        genres: Optional[Sequence[str]] = None,
        exclude_genres: Optional[Sequence[str]] = None,
        allow: Optional[Sequence[int]] = None,
        deny: Optional[Sequence[int]] = None,
        as_frame: Literal[False] = False,
    ) -> Recommendations:
        """Top-k movies for a new user from a few ratings (folded in, items fixed), as
        ``flash-rec recommend --rate MOVIE=RATING``."""
    @overload
    def recommend_new(
        self,
        ratings: Union[Mapping[int, float], Iterable[Tuple[int, float]]],
        k: int = 10,
        *,
        item_bias_weight: float = 1.0,
        genres: Optional[Sequence[str]] = None,
        exclude_genres: Optional[Sequence[str]] = None,
        allow: Optional[Sequence[int]] = None,
        deny: Optional[Sequence[int]] = None,
        as_frame: Literal[True],
    ) -> Any: ...
    @overload
    def similar(
        self,
        movie_id: int,
        k: int = 10,
        *,
        min_ratings: Optional[int] = None,
        genres: Optional[Sequence[str]] = None,
        exclude_genres: Optional[Sequence[str]] = None,
        allow: Optional[Sequence[int]] = None,
        deny: Optional[Sequence[int]] = None,
        as_frame: Literal[False] = False,
    ) -> Recommendations:
        """The k movies most similar to ``movie_id`` (cosine of item factors), as
        ``flash-rec similar``; filters and result as in ``recommend`` (scores are cosines)."""
    @overload
    def similar(
        self,
        movie_id: int,
        k: int = 10,
        *,
        min_ratings: Optional[int] = None,
        genres: Optional[Sequence[str]] = None,
        exclude_genres: Optional[Sequence[str]] = None,
        allow: Optional[Sequence[int]] = None,
        deny: Optional[Sequence[int]] = None,
        as_frame: Literal[True],
    ) -> Any: ...
    @overload
    def recommend_all(
        self,
        k: int = 10,
        *,
        item_bias_weight: float = 1.0,
        exclude_seen: bool = True,
        genres: Optional[Sequence[str]] = None,
        exclude_genres: Optional[Sequence[str]] = None,
        allow: Optional[Sequence[int]] = None,
        deny: Optional[Sequence[int]] = None,
        as_frame: Literal[False] = False,
        out: Optional[PathLike] = None,
    ) -> RecommendationTable:
        """Top-k movies for every user, as ``flash-rec recommend-all``, without the interpreter."""
    @overload
    def recommend_all(
        self,
        k: int = 10,
        *,
        item_bias_weight: float = 1.0,
        exclude_seen: bool = True,
        genres: Optional[Sequence[str]] = None,
        exclude_genres: Optional[Sequence[str]] = None,
        allow: Optional[Sequence[int]] = None,
        deny: Optional[Sequence[int]] = None,
        as_frame: Literal[True],
        out: Optional[PathLike] = None,
    ) -> Any: ...
    def predict(self, user_ids: Any, movie_ids: Any) -> npt.NDArray[np.float32]:
        """Predicted ratings of ``(user_ids[i], movie_ids[i])`` pairs: float32, one per pair."""
    def evaluate(
        self, dataset: Dataset, k: int = 10, relevance_threshold: float = 4.0
    ) -> Dict[str, Any]:
        """The metrics of ``flash-rec eval --json`` on ``dataset``'s test ratings, as a dict:
        rmse, mae, test_ratings, precision@k, recall@k, ndcg@k, map@k, hit_rate@k,
        coverage@k, novelty@k, ranked_users and relevance_threshold."""

def load(path: PathLike, dataset: Optional[Dataset] = None) -> ALS:
    """Reads a model file (written by ``ALS.save`` or ``flash-rec train``)."""

def tune(
    dataset: Dataset,
    *,
    base: Optional[ALS] = None,
    trials: int = 27,
    metric: str = "rmse",
    validation_fraction: float = 0.2,
    factor_choices: Optional[Sequence[int]] = None,
) -> Dict[str, Any]:
    """Searches tau, gamma and k on a validation split carved from the train ratings (never the
    test ratings), by successive halving, as ``flash-rec tune``; then trains the best setting
    on all of train and measures it once on test."""

def synth(path: PathLike, *, users: int, items: int, ratings: int, seed: int = 42) -> int:
    """Writes a seeded, MovieLens-shaped synthetic ratings file (CSV with a MovieLens header, or
    Parquet when the name ends in .parquet), as ``flash-rec synth``; returns the number of
    ratings written. The same seed gives the same file on every machine."""
