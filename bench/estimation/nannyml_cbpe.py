"""NannyML's side of `bench/estimation.ts`: NannyML's CBPE on its own bundled datasets.

Run with the bench venv (nannyml 0.13.1, `setup/requirements-bench.txt`); `bench/estimation.ts`
runs it for you:

    .halflife/venv-bench/bin/python bench/estimation/nannyml_cbpe.py --out DIR [--chunk-sizes car-loan=5000,2500 ...]

For each dataset and chunk size it fits NannyML's CBPE on the reference, estimates the analysis
period, and writes `DIR/<dataset>.json`: the reference and analysis scores, predictions and
labels (so halflife estimates exactly the same rows), and per chunk NannyML's row range, its
estimate and the realised value of every metric both tools estimate. Deterministic: NannyML's
CBPE has no randomness here.
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

METRICS = ["roc_auc", "accuracy", "precision", "recall", "f1"]


def log(line: str) -> None:
    print(f"[nannyml-cbpe] {line}", file=sys.stderr, flush=True)


def datasets():
    reference, analysis, targets = nml.load_synthetic_car_loan_dataset()
    analysis = analysis.merge(targets, on="id")
    yield "car-loan", reference, analysis, {"proba": "y_pred_proba", "pred": "y_pred", "label": "repaid"}
    reference, analysis, targets = nml.load_us_census_ma_employment_data()
    analysis = analysis.merge(targets, on="id")
    yield "employment", reference, analysis, {"proba": "predicted_probability", "pred": "prediction", "label": "employed"}


def chunk_rows(result_df, metric: str):
    return result_df[(metric, "value")].tolist(), result_df[(metric, "realized")].tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="directory to write <dataset>.json into")
    parser.add_argument(
        "--chunk-sizes",
        default="car-loan=5000,2500;employment=5000,20000",
        help="rows per chunk for each dataset, e.g. 'car-loan=5000,2500;employment=5000'",
    )
    args = parser.parse_args()
    sizes = {}
    for part in args.chunk_sizes.split(";"):
        name, _, values = part.partition("=")
        sizes[name.strip()] = [int(v) for v in values.split(",") if v.strip()]
    os.makedirs(args.out, exist_ok=True)
    warnings.filterwarnings("ignore")
    for name, reference, analysis, cols in datasets():
        if name not in sizes:
            continue
        out = {
            "dataset": name,
            "nannyml": nml.__version__,
            "reference": {
                "scores": reference[cols["proba"]].astype(float).tolist(),
                "predictions": reference[cols["pred"]].astype(int).tolist(),
                "labels": reference[cols["label"]].astype(int).tolist(),
            },
            "analysis": {
                "scores": analysis[cols["proba"]].astype(float).tolist(),
                "predictions": analysis[cols["pred"]].astype(int).tolist(),
                "labels": analysis[cols["label"]].astype(int).tolist(),
            },
            "chunkings": [],
        }
        for size in sizes[name]:
            log(f"{name}: CBPE, chunks of {size} rows")
            estimator = nml.CBPE(
                y_pred_proba=cols["proba"],
                y_pred=cols["pred"],
                y_true=cols["label"],
                metrics=METRICS,
                chunk_size=size,
                problem_type="classification_binary",
            )
            estimator.fit(reference)
            df = estimator.estimate(analysis).filter(period="analysis").to_df()
            chunks = []
            for i in range(len(df)):
                row = {
                    "start": int(df[("chunk", "start_index")].iloc[i]),
                    "end": int(df[("chunk", "end_index")].iloc[i]) + 1,
                    "estimated": {},
                    "realised": {},
                }
                for metric in METRICS:
                    value = df[(metric, "value")].iloc[i]
                    realised = df[(metric, "realized")].iloc[i]
                    row["estimated"][metric] = None if value is None or np.isnan(value) else float(value)
                    row["realised"][metric] = None if realised is None or np.isnan(realised) else float(realised)
                chunks.append(row)
            out["chunkings"].append({"chunkSize": size, "chunks": chunks})
        path = os.path.join(args.out, f"{name}.json")
        with open(path, "w") as f:
            json.dump(out, f)
        log(f"wrote {path}")


if __name__ == "__main__":
    main()
