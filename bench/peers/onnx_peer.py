"""Python onnxruntime peer of bench/scorer.ts: the same ONNX file, the same rows, single-row and batched.

Usage: onnx_peer.py MODEL.onnx ROWS SINGLE_CALLS BATCH  -> one JSON line on stdout.
Inputs follow halflife's packed convention: `numeric` [N, 3] float32 (no categorical features).
"""
import json
import sys
import time

import numpy as np
import onnxruntime as ort


def main() -> None:
    model, rows, single, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    opts = ort.SessionOptions()
    # One intra-op thread, as halflife's runner threads use.
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    rng = np.random.default_rng(1)
    x = (rng.random((rows, 3)) * 10).astype(np.float32)

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
    lat.sort()
    blat.sort()
    q = lambda a, p: a[min(len(a) - 1, int(p * len(a)))] * 1000
    print(json.dumps({
        "engine": f"python onnxruntime {ort.__version__}",
        "single": {"calls": single, "eventsPerSec": single / single_s, "p50Ms": q(lat, 0.5), "p99Ms": q(lat, 0.99)},
        "batched": {"batch": batch, "events": rows, "eventsPerSec": rows / batch_s, "p50Ms": q(blat, 0.5), "p99Ms": q(blat, 0.99)},
    }))


if __name__ == "__main__":
    main()
