#!/usr/bin/env python3
"""tests/analysis/pandas_load.py RESULTS_DIR: the records and report CSVs load into pandas as
docs/PANDAS.md shows, with the documented columns, and the report's per-metric means equal the
means recomputed here from results.jsonl (an independent computation of search_table.csv)."""
import math
import sys

import pandas as pd

d = sys.argv[1]
fails = []

# results.jsonl: one record per job attempt; nested objects flatten to params.*, accuracy.*
rec = pd.json_normalize(pd.read_json(f"{d}/results.jsonl", lines=True).to_dict("records"))
need = ["job_id", "status", "attempt", "arch", "value", "params.metric", "params.seed",
        "params.space", "accuracy.cifar10_valid", "accuracy.cifar10_test",
        "accuracy.cifar100_test", "accuracy.imagenet16_test"]
fails += [f"results.jsonl: no column {c}" for c in need if c not in rec.columns]
ok = rec[rec.status == "ok"]
if len(ok) == 0:
    fails.append("results.jsonl: no ok record")

# search_table.csv: one row per group of jobs equal in every param but the seed
tab = pd.read_csv(f"{d}/report/search_table.csv")
need = ["space", "dataset", "metric", "jobs", "ok", "failed", "cifar10_test_mean",
        "cifar10_test_std", "cifar100_test_mean", "imagenet16_test_mean", "search_ms_mean"]
fails += [f"search_table.csv: no column {c}" for c in need if c not in tab.columns]

if not fails:
    mine = ok.groupby("params.metric")["accuracy.cifar10_test"].agg(["mean", "std", "count"])
    for _, row in tab.iterrows():
        m = mine.loc[row.metric]
        if int(m["count"]) != int(row.ok):
            fails.append(f"{row.metric}: {int(m['count'])} ok records, table says {row.ok}")
        if abs(m["mean"] - row.cifar10_test_mean) > 1e-5:
            fails.append(f"{row.metric}: mean {m['mean']:.6f} vs table {row.cifar10_test_mean}")
        if m["count"] > 1 and abs(m["std"] - row.cifar10_test_std) > 1e-5:  # sample std (n-1)
            fails.append(f"{row.metric}: std {m['std']:.6f} vs table {row.cifar10_test_std}")
    print(f"pandas_load: {len(rec)} records, {len(tab)} table rows; per-metric means agree")

# landscape.csv: the mean percentile of the found architectures in the whole space, recomputed
# here from the NB201 table (argv[2]) and the records
if len(sys.argv) > 2 and not fails:
    space = pd.read_csv(sys.argv[2], sep="\t")["cifar10_test"].dropna().to_numpy()
    land = pd.read_csv(f"{d}/report/landscape.csv")
    names = {"synflow": "SynFlow", "snip": "SNIP", "grasp": "GraSP"}
    for metric, grp in ok.groupby("params.metric"):
        pct = [100.0 * (space < a).sum() / len(space) for a in grp["accuracy.cifar10_test"]]
        row = land[(land.method == names[metric]) & (land.accuracy == "cifar10_test")]
        if len(row) != 1:
            fails.append(f"landscape.csv: no row for {metric}")
        elif abs(row.mean_percentile.iloc[0] - sum(pct) / len(pct)) > 0.006:
            fails.append(f"landscape.csv {metric}: percentile {row.mean_percentile.iloc[0]} "
                         f"vs {sum(pct) / len(pct):.4f} recomputed")
    print("pandas_load: landscape percentiles agree")

for f in fails:
    print("FAIL", f)
sys.exit(1 if fails else 0)
