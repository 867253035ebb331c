"""Python onnxruntime peer of bench/scorer.ts: the same ONNX file, the same rows, single-row and batched.

Usage: onnx_peer.py MODEL.onnx ROWS SINGLE_CALLS BATCH [FEATURE,...]  -> one JSON line on stdout.
Inputs follow halflife's packed convention: `numeric` [N, F] float32 (no categorical features).

Each path is timed twice: from a numpy matrix built beforehand (the onnxruntime call alone), and
from JSON-shaped rows (one dict per event, keyed by feature name, as a scoring request carries
them), building the matrix inside the timer. The second is the same work halflife's scorer does
with request objects, so it is the like-for-like comparison for the scorer's throughput.
"""
import json
import sys
import time
from operator import itemgetter

import numpy as np
import onnxruntime as ort


def main() -> None:
    model, rows, single, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    features = sys.argv[5].split(",") if len(sys.argv) > 5 else ["f1", "f2", "f3"]
    opts = ort.SessionOptions()
    # One intra-op thread, as halflife's runner threads use.
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    rng = np.random.default_rng(1)
    x = (rng.random((rows, len(features))) * 10).astype(np.float32)
    # Python floats in dicts, as json.loads gives a request's features.
    dict_rows = [dict(zip(features, map(float, r))) for r in x.tolist()]

    # itemgetter over the rows is the fastest pure-Python way we found to build the matrix
    # (about twice a nested list comprehension); a single feature is wrapped back into a tuple.
    pick = itemgetter(*features) if len(features) > 1 else (lambda r: (r[features[0]],))

    def encode(batch_rows):
        return np.array(list(map(pick, batch_rows)), dtype=np.float32)

    def feed(a):
        f = {"numeric": a}
        if "categorical" in names:
            f["categorical"] = np.empty((a.shape[0], 0), dtype=object)
        return f

    for i in range(200):
        sess.run(None, feed(x[i : i + 1]))
    lat = []
    t0 = time.perf_counter()
    for i in range(single):
        s = time.perf_counter()
        sess.run(None, feed(x[i % rows : i % rows + 1]))
        lat.append(time.perf_counter() - s)
    single_s = time.perf_counter() - t0
    blat = []
    t0 = time.perf_counter()
    done = 0
    while done < rows:
        s = time.perf_counter()
        sess.run(None, feed(x[done : done + batch]))
        blat.append(time.perf_counter() - s)
        done += batch
    batch_s = time.perf_counter() - t0
    # The same two paths from JSON-shaped rows, the matrix built inside the timer.
    rlat = []
    t0 = time.perf_counter()
    for i in range(single):
        s = time.perf_counter()
        sess.run(None, feed(encode(dict_rows[i % rows : i % rows + 1])))
        rlat.append(time.perf_counter() - s)
    single_rows_s = time.perf_counter() - t0
    rblat = []
    t0 = time.perf_counter()
    done = 0
    while done < rows:
        s = time.perf_counter()
        sess.run(None, feed(encode(dict_rows[done : done + batch])))
        rblat.append(time.perf_counter() - s)
        done += batch
    batch_rows_s = time.perf_counter() - t0
    lat.sort()
    blat.sort()
    rlat.sort()
    rblat.sort()
    q = lambda a, p: a[min(len(a) - 1, int(p * len(a)))] * 1000
    print(json.dumps({
        "engine": f"python onnxruntime {ort.__version__}",
        "single": {"calls": single, "eventsPerSec": single / single_s, "p50Ms": q(lat, 0.5), "p99Ms": q(lat, 0.99)},
        "batched": {"batch": batch, "events": rows, "eventsPerSec": rows / batch_s, "p50Ms": q(blat, 0.5), "p99Ms": q(blat, 0.99)},
        "singleFromRows": {"calls": single, "eventsPerSec": single / single_rows_s, "p50Ms": q(rlat, 0.5), "p99Ms": q(rlat, 0.99)},
        "batchedFromRows": {"batch": batch, "events": rows, "eventsPerSec": rows / batch_rows_s, "p50Ms": q(rblat, 0.5), "p99Ms": q(rblat, 0.99)},
    }))


if __name__ == "__main__":
    main()
