#!/usr/bin/env python3
"""Times every canned query on converted data: `trailpq query` (the whole command, process start
included) and DuckDB (in-process, the query alone) on the same Parquet files, through the view
`trailpq ddl duckdb` prints and the SQL `trailpq query --show-sql` prints, as a user would run them.
Best of three runs; the row counts of the two engines must agree.

    bench/queries.py TRAILPQ_BINARY LAKE
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb

binary, lake = sys.argv[1], Path(sys.argv[2]).resolve()
RUNS = 3
# Parameters for queries that need one, chosen to exist in generated data.
PARAMS = {"principal-timeline": {"principal": "alice"}}


def trailpq(*args):
    return subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout


def best(fn):
    times = []
    result = None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


catalog = json.loads(trailpq("query", "--list", "--format", "json"))
con = duckdb.connect()
con.execute(trailpq("ddl", "duckdb", str(lake)))
total = con.execute("SELECT count(*) FROM cloudtrail").fetchall()[0][0]
print(f"canned queries on {total:,} events ({lake}); best of {RUNS} runs, seconds")
print(f"{'query':34} {'rows':>6} {'trailpq':>8} {'duckdb':>8}")
for entry in catalog:
    name = entry["name"]
    params = [a for key, value in PARAMS.get(name, {}).items() for a in ("--param", f"{key}={value}")]
    args = [binary, "query", str(lake), "--name", name, "--format", "csv", *params]
    ours, out = best(lambda: subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    ours_rows = len(out.splitlines()) - 1
    sql = trailpq("query", "--name", name, *params, "--show-sql")
    theirs, rows = best(lambda: con.execute(sql).fetchall())
    mark = "" if len(rows) == ours_rows else f"  ROWS DIFFER: duckdb {len(rows)}"
    print(f"{name:34} {ours_rows:>6} {ours:>8.2f} {theirs:>8.2f}{mark}")
