"""NannyML's multivariate drift on the data of bench/multivariate.ts (run in .halflife/venv-bench).

  python nannyml_multivariate.py --data rows.parquet --reference-rows N --chunk-size C

Reads the Parquet file (columns f0..f4 and ts), takes its first N rows as the reference and the
rest as the analysis period, and runs DomainClassifierCalculator and
DataReconstructionDriftCalculator with their defaults, chunked by C rows. Prints one JSON line:
the import time, per calculator the fit and calculate seconds (modules imported and the file read
before either timer starts), and per chunk its period, value, thresholds and alert.
"""
import argparse
import inspect
import json
import time

t0 = time.perf_counter()
import nannyml as nml  # noqa: E402
import pandas as pd  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - t0


def chunks(result, metric):
    frame = result.filter(period="all").to_df()
    out = []
    for _, row in frame.iterrows():
        out.append({
            "period": row[("chunk", "period")],
            "start_index": int(row[("chunk", "start_index")]),
            "end_index": int(row[("chunk", "end_index")]),
            "value": float(row[(metric, "value")]),
            "lower": None if pd.isna(row[(metric, "lower_threshold")]) else float(row[(metric, "lower_threshold")]),
            "upper": None if pd.isna(row[(metric, "upper_threshold")]) else float(row[(metric, "upper_threshold")]),
            "alert": bool(row[(metric, "alert")]),
        })
    return out


def run(calculator, reference, analysis, metric):
    t = time.perf_counter()
    calculator.fit(reference)
    fit_seconds = time.perf_counter() - t
    t = time.perf_counter()
    result = calculator.calculate(analysis)
    calculate_seconds = time.perf_counter() - t
    return {"fit_seconds": fit_seconds, "calculate_seconds": calculate_seconds, "chunks": chunks(result, metric)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--reference-rows", type=int, required=True)
    parser.add_argument("--chunk-size", type=int, required=True)
    parser.add_argument("--skip", default="", help="comma-separated: domain-classifier, reconstruction")
    parser.add_argument("--threads", type=int, default=0,
                        help="LightGBM threads (0: NannyML's default, every core); on a shared machine 1 avoids "
                             "OpenMP threads spinning against other load")
    args = parser.parse_args()
    frame = pd.read_parquet(args.data)
    features = [c for c in frame.columns if c.startswith("f")]
    reference = frame.iloc[: args.reference_rows].reset_index(drop=True)
    analysis = frame.iloc[args.reference_rows :].reset_index(drop=True)
    skip = set(filter(None, args.skip.split(",")))
    out = {"import_seconds": IMPORT_SECONDS, "nannyml": nml.__version__, "rows": len(frame), "features": features}
    if "reconstruction" not in skip:
        out["reconstruction"] = run(
            nml.DataReconstructionDriftCalculator(column_names=features, chunk_size=args.chunk_size),
            reference, analysis, "reconstruction_error")
    if "domain-classifier" not in skip:
        options = {}
        if args.threads > 0:
            # NannyML's defaults with only the thread count changed (a thread count changes no result).
            hyperparameters = dict(
                inspect.signature(nml.DomainClassifierCalculator).parameters["hyperparameters"].default)
            hyperparameters["n_jobs"] = args.threads
            options["hyperparameters"] = hyperparameters
        out["domain_classifier"] = run(
            nml.DomainClassifierCalculator(feature_column_names=features, chunk_size=args.chunk_size, **options),
            reference, analysis, "domain_classifier_auroc")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
