"""The shipped defaults' epochs and global-mean choice, checked on a validation split.

docs/defaults.md: `flash-rec tune` chose k, tau and gamma with 20 epochs and the global mean
on. This script checks those two fixed choices the same way, never looking at the test split:
it carves 20 % of each user's train ratings (seed 42, as `tune` does) into a validation set,
trains the defaults with the mean on and off for up to 60 epochs, and prints the validation
RMSE at some epochs, the best epoch of each, and (only then) the test RMSE of the chosen
setting. The chosen epoch count is the smallest whose validation RMSE is within TOLERANCE of
the best: later epochs cost time for differences far below the noise of a split.

    PYTHONPATH=target/python-build python bench/defaults_epochs_mean.py data/ml-latest-small
"""

import json
import sys

import flash_rec

EPOCHS = 60
TOLERANCE = 1e-4


def main():
    data = flash_rec.MovieLens(sys.argv[1])
    validation = flash_rec.Dataset.from_ratings(data.train_ratings(), test_fraction=0.2, seed=42)
    curves = {}
    for global_mean in (True, False):
        model = flash_rec.ALS(epochs=EPOCHS, global_mean=global_mean)
        history = model.fit(validation, progress=False)
        curves[global_mean] = [epoch["test_rmse"] for epoch in history]

    report = {}
    for global_mean, curve in curves.items():
        best = min(range(EPOCHS), key=curve.__getitem__)
        enough = next(e for e in range(EPOCHS) if curve[e] <= curve[best] + TOLERANCE)
        report[f"global_mean={global_mean}"] = {
            "best_epoch": best + 1,
            "best_validation_rmse": curve[best],
            "fewest_epochs_within_tolerance": enough + 1,
            "validation_rmse_at": {e: curve[e - 1] for e in (5, 10, 20, 30, 40, 60)},
        }
    chosen_mean = min(curves, key=lambda m: min(curves[m]))
    chosen = report[f"global_mean={chosen_mean}"]
    final = flash_rec.ALS(epochs=chosen["fewest_epochs_within_tolerance"], global_mean=chosen_mean)
    final.fit(data, progress=False)
    report["chosen"] = {
        "global_mean": chosen_mean,
        "epochs": chosen["fewest_epochs_within_tolerance"],
        "test_rmse": final.evaluate(data)["rmse"],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
