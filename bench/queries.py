#!/usr/bin/env python3
"""Times every canned query on converted data: `trailpq query` (the whole command, process start
included) and DuckDB (in-process, the query alone) on the same Parquet files. Best of three runs;
the row counts of the two engines must agree.

    bench/queries.py TRAILPQ_BINARY LAKE
"""
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb

binary, lake = sys.argv[1], Path(sys.argv[2]).resolve()
repo = Path(__file__).resolve().parent.parent
RUNS = 3
# Parameters for queries that need one, chosen to exist in generated data.
PARAMS = {"principal-timeline": {"principal": "alice"}}


def bind(name):
    """The query's SQL with its parameters filled in, as trailpq does."""
    text = (repo / "queries" / f"{name}.sql").read_text()
    values = {}
    for line in text.splitlines():
        m = re.match(r"--\s*param:\s*(\w+)\s*(?:=([^|]*))?", line)
        if m:
            values[m.group(1)] = (m.group(2) or "").strip()
    values.update(PARAMS.get(name, {}))
    body = "\n".join(l for l in text.splitlines() if not l.startswith("--"))
    for key, value in values.items():
        body = body.replace("{{%s}}" % key, "'" + value.replace("'", "''") + "'")
    return body


def best(fn):
    times = []
    result = None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


catalog = json.loads(subprocess.run([binary, "query", "--list", "--format", "json"], check=True,
                                    capture_output=True, text=True).stdout)
partitions = json.load(open(lake / "_trailpq" / "table.json"))["partition_by"]
types = ", ".join(f"'{p}': {'DATE' if p == 'event_date' else 'VARCHAR'}" for p in partitions)
con = duckdb.connect()
con.sql(f"CREATE VIEW cloudtrail AS SELECT * FROM read_parquet('{lake}/cloudtrail/**/*.parquet', "
        f"hive_partitioning = true, hive_types = {{{types}}})")
total = con.execute("SELECT count(*) FROM cloudtrail").fetchall()[0][0]
print(f"canned queries on {total:,} events ({lake}); best of {RUNS} runs, seconds")
print(f"{'query':34} {'rows':>6} {'trailpq':>8} {'duckdb':>8}")
for entry in catalog:
    name = entry["name"]
    args = [binary, "query", str(lake), "--name", name, "--format", "csv"]
    for key, value in PARAMS.get(name, {}).items():
        args += ["--param", f"{key}={value}"]
    ours, out = best(lambda: subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    ours_rows = len(out.splitlines()) - 1
    sql = bind(name)
    theirs, rows = best(lambda: con.execute(sql).fetchall())
    mark = "" if len(rows) == ours_rows else f"  ROWS DIFFER: duckdb {len(rows)}"
    print(f"{name:34} {ours_rows:>6} {ours:>8.2f} {theirs:>8.2f}{mark}")
