"""Python onnxruntime peer of bench/scorer.ts: the same ONNX file, the same rows, single-row and batched.

Usage: onnx_peer.py MODEL.onnx ROWS SINGLE_CALLS BATCH [FEATURE,... [WARMUP_CALLS]]  -> one JSON line on stdout.
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
    warmup = int(sys.argv[6]) if len(sys.argv) > 6 else 200
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

    for i in range(warmup):
        sess.run(None, feed(x[i % rows : i % rows + 1]))

    def timed(slice_input, size):
        """Throughput and latencies of one call per `size` events over the rows (single: `single` calls)."""
        starts = range(single) if size == 1 else range(0, rows, size)
        lat = []
        c0 = time.process_time()
        t0 = time.perf_counter()
        for i in starts:
            s = time.perf_counter()
            sess.run(None, feed(slice_input(i % rows, size)))
            lat.append(time.perf_counter() - s)
        seconds = time.perf_counter() - t0
        cpu_seconds = time.process_time() - c0
        lat.sort()
        q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
        events = single if size == 1 else rows
        shape = {"calls": single} if size == 1 else {"batch": size, "events": rows}
        return {
            **shape,
            "eventsPerSec": events / seconds,
            "p50Ms": q(0.5),
            "p99Ms": q(0.99),
            # The process's CPU time a call: on a loaded machine, what the call cost without the
            # time it waited for a core.
            "cpuMicrosPerCall": cpu_seconds * 1e6 / len(starts),
        }

    from_matrix = lambda i, n: x[i : i + n]
    # The same two paths from JSON-shaped rows, the matrix built inside the timer.
    from_rows = lambda i, n: encode(dict_rows[i : i + n])
    print(json.dumps({
        "engine": f"python onnxruntime {ort.__version__}",
        "single": timed(from_matrix, 1),
        "batched": timed(from_matrix, batch),
        "singleFromRows": timed(from_rows, 1),
        "batchedFromRows": timed(from_rows, batch),
    }))


if __name__ == "__main__":
    main()
