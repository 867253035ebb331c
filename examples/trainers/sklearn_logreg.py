#!/usr/bin/env python3
"""halflife external trainer: scikit-learn logistic regression exported to ONNX with skl2onnx.

Follows the external-command contract in docs/trainers.md:

    sklearn_logreg.py --train <csv> --params <json> --out-dir <dir> --seed <n>

writes <dir>/model.onnx (one [N, 1] input per feature, named after it; output
`probabilities` [N, 2]) and <dir>/metrics.json, and exits 0. Exit 2 = bad parameters,
3 = unusable data (halflife does not retry those); anything else non-zero may be retried.

Run with the dev venv: .halflife/venv-dev/bin/python examples/trainers/sklearn_logreg.py ...
"""
import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

KNOWN_PARAMS = {"C": float, "max_iter": int}


def fail(code, message):
    print(f"sklearn_logreg: {message}", file=sys.stderr)
    sys.exit(code)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--params", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args()

    # Imported after argument parsing so `--help` works without the heavy libraries.
    import numpy as np
    import pandas as pd
    import sklearn
    import skl2onnx
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    spec = json.loads(Path(args.params).read_text())
    numeric = spec["features"]["numeric"]
    categorical = spec["features"]["categorical"]
    label_column = spec.get("label_column", "label")
    raw_params = spec.get("params", {})
    unknown = sorted(set(raw_params) - set(KNOWN_PARAMS))
    if unknown:
        fail(2, f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_PARAMS))}")
    try:
        params = {"C": 1.0, "max_iter": 200} | {k: KNOWN_PARAMS[k](v) for k, v in raw_params.items()}
    except (TypeError, ValueError) as err:
        fail(2, f"bad parameter value: {err}")

    started = time.time()
    df = pd.read_csv(args.train, dtype={c: str for c in categorical}, keep_default_na=True)
    y = df[label_column].astype(int).to_numpy()
    if len(np.unique(y)) < 2:
        fail(3, "the training data has a single class; need both 0 and 1 labels")
    X = df[numeric + categorical].copy()
    for c in numeric:
        X[c] = X[c].astype("float32")
    for c in categorical:
        X[c] = X[c].fillna("")

    transformers = []
    if numeric:
        transformers.append(("num", Pipeline([("impute", SimpleImputer(strategy="mean")), ("scale", StandardScaler())]), numeric))
    if categorical:
        transformers.append(("cat", OneHotEncoder(handle_unknown="ignore"), categorical))
    clf = LogisticRegression(C=params["C"], max_iter=params["max_iter"], random_state=args.seed)
    pipe = Pipeline([("prep", ColumnTransformer(transformers)), ("clf", clf)])
    pipe.fit(X, y)

    initial_types = [(c, FloatTensorType([None, 1])) for c in numeric] + [(c, StringTensorType([None, 1])) for c in categorical]
    onx = convert_sklearn(pipe, initial_types=initial_types, options={id(clf): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.onnx").write_bytes(onx.SerializeToString())

    proba = pipe.predict_proba(X)[:, 1]
    script_digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    metrics = {
        "rows": int(len(y)),
        "positives": int(y.sum()),
        "trainLogLoss": float(log_loss(y, proba)),
        "trainAccuracy": float(accuracy_score(y, proba >= 0.5)),
        "trainRocAuc": float(roc_auc_score(y, proba)),
        "iterations": int(clf.n_iter_[0]),
        "trainSeconds": time.time() - started,
        "params": params | {"seed": args.seed},
        "code_version": f"sklearn_logreg.py@{script_digest} sklearn {sklearn.__version__} skl2onnx {skl2onnx.__version__}",
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
