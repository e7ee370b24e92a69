"""The shipped defaults' epochs and global-mean choice, checked on a validation split.

docs/defaults.md: `flash-rec tune` chose k, tau and gamma with 20 epochs and the global mean
on. This script checks those two fixed choices the same way, never looking at the test split:
it carves 20 % of each user's train ratings (seed 42, as `tune` does) into a validation set,
trains the defaults with the mean on and off for up to 60 epochs, and prints the validation
RMSE per epoch, the best epoch of each, and (only then) the test RMSE of the chosen setting.

    PYTHONPATH=target/python-build python bench/defaults_epochs_mean.py data/ml-latest-small
"""

import json
import sys

import flash_rec

EPOCHS = 60


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
        report[f"global_mean={global_mean}"] = {
            "best_epoch": best + 1,
            "best_validation_rmse": curve[best],
            "validation_rmse_at": {e: curve[e - 1] for e in (5, 10, 20, 30, 40, 60)},
        }
    chosen_mean = min(curves, key=lambda m: min(curves[m]))
    chosen = report[f"global_mean={chosen_mean}"]
    final = flash_rec.ALS(epochs=chosen["best_epoch"], global_mean=chosen_mean)
    final.fit(data, progress=False)
    report["chosen"] = {
        "global_mean": chosen_mean,
        "epochs": chosen["best_epoch"],
        "test_rmse": final.evaluate(data)["rmse"],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
