"""flash_rec on MovieLens: train, evaluate, recommend, plot the curves, tune lam, tau, gamma.

    pip install ./crates/python            # then, optionally: matplotlib optuna tqdm
    cargo xtask download                   # data/ml-latest-small, if you have not got it
    python examples/movielens.py --data data/ml-latest-small

- Training shows a tqdm bar when tqdm is installed and stderr is a terminal.
- With matplotlib, the train and test RMSE per epoch go to OUT/training_curves.png.
- With Optuna, lam, tau and gamma are tuned on a validation split carved from the train
  ratings (never the test ratings), trials pruned epoch by epoch through the fit callback;
  the best setting is then trained on all of train and measured once on test. Without Optuna,
  flash_rec.tune (the search of ``flash-rec tune``) runs instead.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Dict, List

import flash_rec


def arguments() -> argparse.Namespace:
    default_data = Path(os.environ.get("FLASH_DATA_DIR", "data")) / "ml-latest-small"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data, help="MovieLens folder")
    parser.add_argument("--factors", type=int, default=32, help="length of the factors")
    parser.add_argument("--epochs", type=int, default=20, help="epochs of every fit")
    parser.add_argument("--trials", type=int, default=30, help="tuning trials (0: no tuning)")
    parser.add_argument("--out", type=Path, default=Path("results/python-example"),
                        help="where the plot goes")
    return parser.parse_args()


def show_recommendations(model: flash_rec.ALS, data: flash_rec.Dataset) -> None:
    movie_ids, scores = model.recommend(1, k=5)
    print("\ntop 5 for user 1:")
    for movie_id, score in zip(movie_ids.tolist(), scores.tolist()):
        print(f"  {score:5.2f}  {data.features(movie_id)['title']}")
    movie_ids, _ = model.similar(1, k=5)
    print("most like Toy Story (1995):")
    for movie_id in movie_ids.tolist():
        print(f"        {data.features(movie_id)['title']}")


def plot_curves(history: List[Dict[str, Any]], data_name: str, out: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\nno plot: pip install matplotlib to draw the training curves")
        return
    epochs = [epoch["epoch"] for epoch in history]
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.plot(epochs, [epoch["train_rmse"] for epoch in history], label="train RMSE")
    axis.plot(epochs, [epoch["test_rmse"] for epoch in history], label="test RMSE")
    axis.set_title(f"flash_rec ALS on {data_name}")
    axis.set_xlabel("epoch")
    axis.set_ylabel("RMSE")
    axis.legend()
    axis.grid(alpha=0.3)
    out.mkdir(parents=True, exist_ok=True)
    figure.savefig(out / "training_curves.png", dpi=120, bbox_inches="tight")
    print(f"\ntraining curves written to {out / 'training_curves.png'}")


def tune_with_optuna(optuna: Any, data: flash_rec.Dataset, args: argparse.Namespace) -> Dict:
    """The best lam, tau and gamma on a validation split of the train ratings."""
    validation = flash_rec.Dataset.from_ratings(data.train_ratings(), test_fraction=0.2, seed=1)

    def objective(trial: Any) -> float:
        model = flash_rec.ALS(
            factors=args.factors,
            epochs=args.epochs,
            lam=trial.suggest_float("lam", 0.1, 10.0, log=True),
            tau=trial.suggest_float("tau", 1e-3, 1.0, log=True),
            gamma=trial.suggest_float("gamma", 1e-3, 10.0, log=True),
        )

        def report(epoch: Dict[str, Any]) -> bool:
            trial.report(epoch["test_rmse"], epoch["epoch"])
            return not trial.should_prune()

        history = model.fit(validation, callback=report, progress=False)
        if len(history) < args.epochs:
            raise optuna.TrialPruned()
        return history[-1]["test_rmse"]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", pruner=optuna.pruners.MedianPruner())
    study.optimize(objective, n_trials=args.trials)
    print(f"\nOptuna: best validation RMSE {study.best_value:.4f} with {study.best_params}")
    return study.best_params


def main() -> None:
    args = arguments()
    data = flash_rec.MovieLens(args.data)
    print(data)

    model = flash_rec.ALS(factors=args.factors, epochs=args.epochs)
    history = model.fit(data)
    last = history[-1]
    print(f"{len(history)} epochs: train RMSE {last['train_rmse']:.4f}, "
          f"test RMSE {last['test_rmse']:.4f}")
    metrics = model.evaluate(data)
    shown = [f"{key} {value:.4f}" for key, value in metrics.items()
             if isinstance(value, float) and key != "relevance_threshold"]
    print("metrics: " + ", ".join(shown))
    show_recommendations(model, data)
    plot_curves(history, args.data.name, args.out)

    if args.trials <= 0:
        return
    try:
        import optuna
    except ImportError:
        optuna = None
    if optuna is None:
        print("\nno Optuna (pip install optuna): running flash_rec.tune instead")
        base = flash_rec.ALS(factors=args.factors, epochs=args.epochs)
        report = flash_rec.tune(data, base=base, trials=args.trials,
                                factor_choices=[args.factors])
        best = report["best"]["params"]
        print(f"tune: tau {best['tau']:.4g}, gamma {best['gamma']:.4g}, "
              f"test RMSE {report['test']['rmse']:.4f}")
        return
    best = tune_with_optuna(optuna, data, args)
    tuned = flash_rec.ALS(factors=args.factors, epochs=args.epochs, **best)
    tuned.fit(data, progress=False)
    print(f"tuned on all of train: test RMSE {tuned.evaluate(data)['rmse']:.4f} "
          f"(untuned {metrics['rmse']:.4f})")


if __name__ == "__main__":
    main()
