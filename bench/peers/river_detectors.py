"""River's change detectors on the series bench/detection.ts monitors (run in .halflife/venv-dev).

  python river_detectors.py --input series.json [--detectors adwin,page-hinkley,kswin]

Input: {"series": [{"id": str, "values": [float, ...]}, ...]}. Every detector is River 0.23's
with its defaults (KSWIN seeded per series for reproducibility), fed the values one at a time.
Prints one JSON object: {"river": version, "results": {id: {detector: {"detections": [index, ...],
"seconds": float}}}}, where seconds is the time of the update loop alone.
"""
import argparse
import json
import sys
import time
import zlib

import river
from river import drift

MAKERS = {
    'adwin': lambda sid: drift.ADWIN(),
    'page-hinkley': lambda sid: drift.PageHinkley(),
    'kswin': lambda sid: drift.KSWIN(seed=zlib.crc32(sid.encode())),
}


def run(make, values):
    detector = make()
    hits = []
    start = time.perf_counter()
    for i, x in enumerate(values):
        detector.update(x)
        if detector.drift_detected:
            hits.append(i)
    return {'detections': hits, 'seconds': time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--input', required=True)
    parser.add_argument('--detectors', default='adwin,page-hinkley,kswin')
    args = parser.parse_args()
    with open(args.input, encoding='utf8') as f:
        series = json.load(f)['series']
    names = args.detectors.split(',')
    results = {}
    for k, s in enumerate(series):
        results[s['id']] = {name: run(lambda: MAKERS[name](s['id']), s['values']) for name in names}
        print(f"[river] {k + 1}/{len(series)} {s['id']}", file=sys.stderr, flush=True)
    print(json.dumps({'river': river.__version__, 'results': results}))


if __name__ == '__main__':
    main()
