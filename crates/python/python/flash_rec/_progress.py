"""The optional progress bar of ``ALS.fit``: tqdm when it is installed, in a terminal or a
notebook; nothing otherwise. tqdm is imported only when a bar is wanted."""

from __future__ import annotations

import sys
from typing import Any, Dict, Optional


class EpochBar:
    """A tqdm bar advanced once per epoch, showing the latest test RMSE."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar

    def epoch(self, stats: Dict[str, Any]) -> None:
        """Advances the bar by one epoch and shows that epoch's figures."""
        test = stats.get("test_rmse")
        shown = "-" if test is None else f"{test:.4f}"
        self._bar.set_postfix_str(f"test RMSE {shown}", refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        """Removes the bar."""
        self._bar.close()


def _interactive() -> bool:
    """Whether a person is watching: stderr is a terminal, or this is a Jupyter kernel."""
    if "ipykernel" in sys.modules:
        return True
    stderr = sys.stderr
    return stderr is not None and hasattr(stderr, "isatty") and stderr.isatty()


def open_bar(total: int, progress: Optional[bool]) -> Optional[EpochBar]:
    """A bar of ``total`` epochs, or None: ``progress`` False, no tqdm, or (when ``progress``
    is None) nobody watching."""
    if progress is False or (progress is None and not _interactive()):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return EpochBar(tqdm(total=total, desc="training", unit="epoch", leave=False))
