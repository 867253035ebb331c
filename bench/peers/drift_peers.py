"""Peers of halflife's drift report on the same data (bench/drift.ts runs this in .halflife/venv-bench).

  python drift_peers.py --tool scipy|evidently --reference ref.parquet --current cur.parquet

Prints one JSON line: seconds (the comparison only: files already loaded and the tool's modules
already imported, as halflife's timer starts in a process that has imported its code), the
import time on its own, peak RSS of the process (MiB, includes the loaded frames) and how many
columns each tool calls drifted. Columns f* are numeric, c* categorical.
"""
import argparse
import json
import resource
import time

import pandas as pd


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_scipy():
    from scipy import stats

    return stats


def import_evidently():
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    return DataDefinition, Dataset, Report, DataDriftPreset


def run_scipy(ref: pd.DataFrame, cur: pd.DataFrame, stats) -> int:
    # Per column, as a user would write it: two-sample KS for numeric, chi-square on the
    # contingency table of category counts for categorical.
    drifted = 0
    for col in ref.columns:
        if col.startswith('f'):
            p = stats.ks_2samp(ref[col].to_numpy(), cur[col].to_numpy()).pvalue
        else:
            table = pd.concat([ref[col].value_counts(), cur[col].value_counts()], axis=1).fillna(0).to_numpy().T
            p = stats.chi2_contingency(table)[1]
        drifted += int(p < 0.05)
    return drifted


def run_evidently(ref: pd.DataFrame, cur: pd.DataFrame, modules) -> int:
    DataDefinition, Dataset, Report, DataDriftPreset = modules
    definition = DataDefinition(
        numerical_columns=[c for c in ref.columns if c.startswith('f')],
        categorical_columns=[c for c in ref.columns if c.startswith('c')],
    )
    report = Report([DataDriftPreset()])
    snapshot = report.run(
        current_data=Dataset.from_pandas(cur, data_definition=definition),
        reference_data=Dataset.from_pandas(ref, data_definition=definition),
    )
    result = snapshot.dict()
    drifted = 0
    for metric in result.get('metrics', []):
        if str(metric.get('metric_name', '')).startswith('DriftedColumnsCount'):
            drifted = int(metric['value']['count'])
    return drifted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--tool', choices=['scipy', 'evidently'], required=True)
    parser.add_argument('--reference', required=True)
    parser.add_argument('--current', required=True)
    args = parser.parse_args()
    ref = pd.read_parquet(args.reference)
    cur = pd.read_parquet(args.current)
    # Imports outside the timer: a monitoring service imports its library once, not per report.
    started_import = time.perf_counter()
    modules = import_scipy() if args.tool == 'scipy' else import_evidently()
    import_seconds = time.perf_counter() - started_import
    start = time.perf_counter()
    drifted = run_scipy(ref, cur, modules) if args.tool == 'scipy' else run_evidently(ref, cur, modules)
    seconds = time.perf_counter() - start
    print(json.dumps({'tool': args.tool, 'rows_reference': len(ref), 'rows_current': len(cur), 'seconds': seconds, 'import_seconds': import_seconds, 'peak_rss_mib': peak_rss_mib(), 'drifted': drifted}))


if __name__ == '__main__':
    main()
