"""NannyML's side of `bench/estimation-multiclass-regression.ts`: NannyML's multiclass CBPE and
its DLE on NannyML's own bundled datasets (synthetic multiclass credit-card set; synthetic car
prices).

Run with the bench venv (nannyml 0.13.1, `setup/requirements-bench.txt`); the benchmark runs it
for you:

    .halflife/venv-bench/bin/python bench/estimation/nannyml_multiclass_regression.py --out DIR [--chunk-sizes 6000,2000]

Writes `DIR/multiclass.json` and `DIR/regression.json`: the reference and analysis rows (class
probabilities, predicted and true class indices; or numeric features with categories as codes,
predictions and truth) so halflife estimates exactly the same rows, and per chunk NannyML's row
range, its estimate and the realised value. CBPE is deterministic; DLE fits LightGBM with its
default (fixed) seed and no hyperparameter tuning, so it is deterministic too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

# NannyML reports usage over the network unless told not to: a benchmark sends nothing.
os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

import nannyml as nml  # noqa: E402
import numpy as np  # noqa: E402

NUMERIC = ["car_age", "km_driven", "price_new", "accident_count", "door_count"]
CATEGORICAL = ["fuel", "transmission"]


def log(line: str) -> None:
    print(f"[nannyml-multiclass-regression] {line}", file=sys.stderr, flush=True)


def clean(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)


def chunk_rows(df, metrics):
    chunks = []
    for i in range(len(df)):
        chunks.append(
            {
                "start": int(df[("chunk", "start_index")].iloc[i]),
                "end": int(df[("chunk", "end_index")].iloc[i]) + 1,
                "estimated": {m: clean(df[(m, "value")].iloc[i]) for m in metrics},
                "realised": {m: clean(df[(m, "realized")].iloc[i]) for m in metrics},
            }
        )
    return chunks


def multiclass(sizes):
    reference, analysis, targets = nml.load_synthetic_multiclass_classification_dataset()
    analysis = analysis.merge(targets, on="id")
    classes = sorted(reference["y_true"].unique().tolist())
    proba = {c: f"y_pred_proba_{c}" for c in classes}

    def rows(df):
        return {
            "probabilities": df[[proba[c] for c in classes]].astype(float).values.tolist(),
            "predicted": df["y_pred"].map(classes.index).astype(int).tolist(),
            "truth": df["y_true"].map(classes.index).astype(int).tolist(),
        }

    out = {"dataset": "multiclass", "nannyml": nml.__version__, "classes": classes, "reference": rows(reference), "analysis": rows(analysis), "chunkings": []}
    for size in sizes:
        log(f"multiclass CBPE, chunks of {size} rows")
        estimator = nml.CBPE(
            y_pred_proba=proba,
            y_pred="y_pred",
            y_true="y_true",
            metrics=["accuracy", "f1"],
            chunk_size=size,
            problem_type="classification_multiclass",
        )
        estimator.fit(reference)
        df = estimator.estimate(analysis).filter(period="analysis").to_df()
        out["chunkings"].append({"chunkSize": size, "chunks": chunk_rows(df, ["accuracy", "f1"])})
    return out


def regression(sizes):
    reference, analysis, targets = nml.load_synthetic_car_price_dataset()
    analysis = analysis.merge(targets, on="id")
    codes = {c: sorted(reference[c].astype(str).unique().tolist()) for c in CATEGORICAL}

    def rows(df):
        numeric = df[NUMERIC].astype(float).values
        categorical = np.column_stack([df[c].astype(str).map(lambda v, c=c: codes[c].index(v) if v in codes[c] else -1) for c in CATEGORICAL])
        return {
            "features": np.column_stack([numeric, categorical]).tolist(),
            "predictions": df["y_pred"].astype(float).tolist(),
            "truth": df["y_true"].astype(float).tolist(),
        }

    out = {
        "dataset": "regression",
        "nannyml": nml.__version__,
        "featureNames": NUMERIC + CATEGORICAL,
        # NannyML treats string columns as categorical and LightGBM splits them as categories.
        "categoricalFeatures": [len(NUMERIC) + i for i in range(len(CATEGORICAL))],
        "reference": rows(reference),
        "analysis": rows(analysis),
        "chunkings": [],
    }
    for size in sizes:
        log(f"DLE, chunks of {size} rows")
        estimator = nml.DLE(
            feature_column_names=NUMERIC + CATEGORICAL,
            y_pred="y_pred",
            y_true="y_true",
            metrics=["mae", "rmse"],
            chunk_size=size,
        )
        estimator.fit(reference)
        df = estimator.estimate(analysis).filter(period="analysis").to_df()
        out["chunkings"].append({"chunkSize": size, "chunks": chunk_rows(df, ["mae", "rmse"])})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="directory to write multiclass.json and regression.json into")
    parser.add_argument("--chunk-sizes", default="6000,2000", help="rows per chunk, comma-separated")
    args = parser.parse_args()
    sizes = [int(v) for v in args.chunk_sizes.split(",") if v.strip()]
    os.makedirs(args.out, exist_ok=True)
    warnings.filterwarnings("ignore")
    for name, build in (("multiclass", multiclass), ("regression", regression)):
        out = build(sizes)
        path = os.path.join(args.out, f"{name}.json")
        with open(path, "w") as f:
            json.dump(out, f)
        log(f"wrote {path}")


if __name__ == "__main__":
    main()
