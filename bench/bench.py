#!/usr/bin/env python3
"""`make bench`: trailpq against DuckDB on the same generated CloudTrail logs, in the same run.

    bench/bench.py TRAILPQ OUT_DIR [--events N] [--runs R] [--json FILE] [--skip-queries]

This machine is shared and noisy: absolute times drift, ratios measured side by side hold. So
every figure comes from runs that alternate between the engines, and the ratios are the point.

Convert: EVENTS generated events (seed 1, 7 days, the S3 layout, gzip). R alternating runs each
of trailpq (default threads), trailpq --threads 1 and DuckDB (read_json with typed top-level
fields and nested objects as JSON, COPY ... PARTITION_BY event_date, zstd); medians of wall
seconds, records/s, MB/s of uncompressed JSON, peak RSS and output bytes, and the ratios. Then
trailpq on a tenth of the events, to show its peak RSS does not grow with the input.

Queries: every canned query, through `trailpq query` (the whole process: start, listing, footers,
execution) and through DuckDB in-process on the same files (the view `trailpq ddl duckdb` prints,
the SQL `trailpq query --show-sql` prints); medians of R runs, row counts compared, and the
geometric mean of the ratios trailpq / DuckDB.

Everything is also written as JSON (OUT_DIR/bench.json unless --json), to compare across commits.
"""

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_measured(args, **kwargs):
    """Runs a command to the end; returns (wall seconds, peak RSS in bytes, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read(), proc.stderr.read()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_maxrss * 1024, out


def tree_bytes(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*.parquet"))


def generate(binary, events, out):
    folder = out / f"input-{events}"
    marker = folder / ".complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(
            [binary, "generate", "--out", folder, "--events", str(events), "--days", "7", "--seed", "1"],
            check=True,
        )
        marker.touch()
    return folder


def trailpq_convert(binary, source, dest, threads=None):
    shutil.rmtree(dest, ignore_errors=True)
    report = Path(f"{dest}.report.json")
    args = [binary, "convert", source, "--out", dest, "--report", report, "--quiet"]
    if threads:
        args += ["--threads", str(threads)]
    wall, rss, _ = run_measured(args)
    r = json.loads(report.read_text())
    return {
        "seconds": wall,
        "records": r["records_written"],
        "json_bytes": r["json_bytes"],
        "peak_rss": rss,
        "output_bytes": r["output_bytes"],
    }


def duckdb_convert(source, dest, records, json_bytes):
    shutil.rmtree(dest, ignore_errors=True)
    wall, rss, _ = run_measured([sys.executable, HERE / "duckdb_convert.py", source, dest])
    return {
        "seconds": wall,
        "records": records,
        "json_bytes": json_bytes,
        "peak_rss": rss,
        "output_bytes": tree_bytes(dest),
    }


def median_of(runs):
    keys = runs[0].keys()
    return {k: statistics.median(r[k] for r in runs) for k in keys}


def rates(m):
    m["records_per_s"] = m["records"] / m["seconds"]
    m["json_mb_per_s"] = m["json_bytes"] / 1e6 / m["seconds"]
    return m


def show(label, m):
    print(
        f"  {label:22} {m['seconds']:7.2f} s {m['records_per_s']:>11,.0f} rec/s "
        f"{m['json_mb_per_s']:7.1f} MB/s  RSS {m['peak_rss'] / 2**20:7.0f} MiB  "
        f"output {m['output_bytes'] / 1e6:7.1f} MB"
    )


def bench_convert(binary, out, events, runs):
    full = generate(binary, events, out)
    small = generate(binary, events // 10, out)
    tp, tp1, dk = [], [], []
    for i in range(runs):
        tp.append(trailpq_convert(binary, full, out / "lake-full"))
        dk.append(duckdb_convert(full, out / "duckdb-out", tp[-1]["records"], tp[-1]["json_bytes"]))
        tp1.append(trailpq_convert(binary, full, out / "lake-t1", threads=1))
        print(f"  run {i + 1}/{runs}: trailpq {tp[-1]['seconds']:.1f} s, duckdb {dk[-1]['seconds']:.1f} s, "
              f"trailpq --threads 1 {tp1[-1]['seconds']:.1f} s", flush=True)
    smalls = [trailpq_convert(binary, small, out / "lake-small") for _ in range(runs)]
    result = {
        "events": tp[0]["records"],
        "json_bytes": tp[0]["json_bytes"],
        "trailpq": rates(median_of(tp)),
        "trailpq_threads_1": rates(median_of(tp1)),
        "duckdb": rates(median_of(dk)),
        "trailpq_tenth": rates(median_of(smalls)),
    }
    t, t1, d, s = (result[k] for k in ("trailpq", "trailpq_threads_1", "duckdb", "trailpq_tenth"))
    result["ratios"] = {
        "records_per_s_vs_duckdb": t["records_per_s"] / d["records_per_s"],
        "threads_2_vs_1": t1["seconds"] / t["seconds"],
        "peak_rss_vs_duckdb": t["peak_rss"] / d["peak_rss"],
        "output_bytes_vs_duckdb": t["output_bytes"] / d["output_bytes"],
        "peak_rss_full_vs_tenth": t["peak_rss"] / s["peak_rss"],
    }
    print(f"\nconvert {result['events']:,} events ({result['json_bytes'] / 1e9:.2f} GB of JSON), "
          f"{os.cpu_count()} cores, medians of {runs} alternating runs:")
    show("trailpq", t)
    show("trailpq --threads 1", t1)
    show("duckdb", d)
    show(f"trailpq, {s['records']:,} events", s)
    r = result["ratios"]
    print(f"  records/s: trailpq {r['records_per_s_vs_duckdb']:.2f}x DuckDB's (target 5x)")
    print(f"  --threads 2 vs 1: {r['threads_2_vs_1']:.2f}x (target 1.8x)")
    print(f"  peak RSS: {r['peak_rss_vs_duckdb']:.3f} of DuckDB's (target 0.1); "
          f"full / tenth of the events: {r['peak_rss_full_vs_tenth']:.2f}")
    print(f"  output bytes: {r['output_bytes_vs_duckdb']:.2f} of DuckDB's (target <= 1)")
    return result


def bench_queries(binary, lake, runs):
    import duckdb

    def trailpq(*args):
        return subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout

    def timed(fn):
        times, result = [], None
        for _ in range(runs):
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times), result

    params = {"principal-timeline": {"principal": "alice"}}
    catalog = json.loads(trailpq("query", "--list", "--format", "json"))
    con = duckdb.connect()
    con.execute(trailpq("ddl", "duckdb", str(lake)))
    rows = []
    print(f"\ncanned queries: medians of {runs} runs, seconds (trailpq: the whole process)")
    print(f"  {'query':34} {'rows':>8} {'trailpq':>8} {'duckdb':>8} {'ratio':>6}")
    for entry in catalog:
        name = entry["name"]
        extra = [a for k, v in params.get(name, {}).items() for a in ("--param", f"{k}={v}")]
        args = [binary, "query", str(lake), "--name", name, "--format", "csv", *extra]
        ours, out = timed(lambda: subprocess.run(args, check=True, capture_output=True, text=True).stdout)
        ours_rows = len(out.splitlines()) - 1
        sql = trailpq("query", "--name", name, *extra, "--show-sql")
        theirs, result = timed(lambda: con.execute(sql).fetchall())
        ratio = ours / theirs
        mark = "" if len(result) == ours_rows else f"  ROWS DIFFER: duckdb {len(result)}"
        print(f"  {name:34} {ours_rows:>8,} {ours:>8.2f} {theirs:>8.2f} {ratio:>6.2f}{mark}")
        rows.append({"query": name, "rows": ours_rows, "duckdb_rows": len(result),
                     "trailpq_seconds": ours, "duckdb_seconds": theirs, "ratio": ratio})
    geomean = math.exp(statistics.mean(math.log(r["ratio"]) for r in rows))
    print(f"  geometric mean of trailpq / DuckDB: {geomean:.2f} (target <= 1.0)")
    return {"queries": rows, "geometric_mean_ratio": geomean}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("trailpq")
    p.add_argument("out")
    p.add_argument("--events", type=int, default=2_000_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json")
    p.add_argument("--skip-queries", action="store_true")
    a = p.parse_args()
    binary, out = str(Path(a.trailpq).resolve()), Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    figures = {"commit": commit, "cores": os.cpu_count(), "runs": a.runs}
    figures["convert"] = bench_convert(binary, out, a.events, a.runs)
    if not a.skip_queries:
        figures.update(bench_queries(binary, out / "lake-full", a.runs))
    path = Path(a.json) if a.json else out / "bench.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nfigures written to {path}")


if __name__ == "__main__":
    main()
