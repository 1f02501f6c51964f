#!/usr/bin/env python3
"""`make bench`: trailpq against DuckDB on the same generated CloudTrail logs, in the same run.

    bench/bench.py TRAILPQ OUT_DIR [--events N] [--runs R] [--json FILE] [--skip-queries]
                   [--larger-scale K]

This machine is shared and noisy: absolute times drift, ratios measured side by side hold. So
every figure comes from runs that alternate between the engines, and the ratios are the point.

Convert, on two data shapes: EVENTS generated events (seed 1, 7 days, the S3 layout, gzip) as
`trailpq generate` makes them, and the same events with larger records (`--records-scale K`,
2 by default). R alternating runs each of trailpq (default threads), DuckDB in its two set-ups
(automatic detection, and `maximum_depth=4`: see bench/duckdb_convert.py) and, on the first
shape, trailpq --threads 1; medians of wall seconds, records/s, MB/s of uncompressed JSON, peak
RSS and output bytes, and the ratios against the faster DuckDB set-up. Then trailpq on a tenth of
the events, to show its peak RSS does not grow with the input.

Delta commits: the tenth of the events converted with a checkpoint every 8 MB of input into a Hive
table and into a Delta table (`--table-format delta`), alternating; the difference in wall time per
checkpoint is what a Delta commit costs (footers read for statistics, the log read and written).

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


def generate(binary, events, out, scale=1):
    folder = out / (f"input-{events}" if scale == 1 else f"input-{events}-x{scale}")
    marker = folder / ".complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(
            [binary, "generate", "--out", folder, "--events", str(events), "--days", "7", "--seed", "1",
             "--records-scale", str(scale)],
            check=True,
        )
        marker.touch()
    return folder


def trailpq_convert(binary, source, dest, threads=None, extra=()):
    shutil.rmtree(dest, ignore_errors=True)
    report = Path(f"{dest}.report.json")
    args = [binary, "convert", source, "--out", dest, "--report", report, "--quiet", *extra]
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
        "checkpoints": r["checkpoints"],
    }


def duckdb_convert(source, dest, records, json_bytes, mode):
    """One DuckDB set-up (bench/duckdb_convert.py); None when DuckDB cannot convert the input."""
    shutil.rmtree(dest, ignore_errors=True)
    try:
        wall, rss, _ = run_measured([sys.executable, HERE / "duckdb_convert.py", source, dest, mode])
    except SystemExit as failed:
        print(f"  duckdb {mode} failed: {str(failed).splitlines()[-1][:200]}", flush=True)
        return None
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


DUCKDB_MODES = ("auto", "depth4")


def bench_convert(binary, out, events, runs, scale, threads_1):
    """Converts one data shape: R alternating runs of trailpq, each DuckDB set-up and (if
    `threads_1`) trailpq --threads 1; then trailpq on a tenth of the events."""
    full = generate(binary, events, out, scale)
    small = generate(binary, events // 10, out, scale)
    tag = "" if scale == 1 else f"-x{scale}"
    tp, tp1, dk = [], [], {m: [] for m in DUCKDB_MODES}
    for i in range(runs):
        tp.append(trailpq_convert(binary, full, out / f"lake-full{tag}"))
        line = f"  run {i + 1}/{runs}: trailpq {tp[-1]['seconds']:.1f} s"
        for mode in DUCKDB_MODES:
            if i > 0 and not dk[mode]:
                continue  # it failed on the first run: it fails on this input
            m = duckdb_convert(full, out / f"duckdb-out{tag}", tp[-1]["records"], tp[-1]["json_bytes"], mode)
            if m:
                dk[mode].append(m)
                line += f", duckdb {mode} {m['seconds']:.1f} s"
        if threads_1:
            tp1.append(trailpq_convert(binary, full, out / f"lake-t1{tag}", threads=1))
            line += f", trailpq --threads 1 {tp1[-1]['seconds']:.1f} s"
        print(line, flush=True)
    smalls = [trailpq_convert(binary, small, out / f"lake-small{tag}") for _ in range(runs)]
    duck = {m: rates(median_of(r)) for m, r in dk.items() if r}
    if not duck:
        sys.exit("DuckDB converted the input in none of its set-ups")
    fastest = min(duck, key=lambda m: duck[m]["seconds"])
    t, s, d = rates(median_of(tp)), rates(median_of(smalls)), duck[fastest]
    result = {
        "records_scale": scale,
        "events": t["records"],
        "json_bytes": t["json_bytes"],
        "trailpq": t,
        "duckdb": duck,
        "duckdb_fastest": fastest,
        "trailpq_tenth": s,
    }
    result["ratios"] = {
        "records_per_s_vs_duckdb": t["records_per_s"] / d["records_per_s"],
        "peak_rss_vs_duckdb": t["peak_rss"] / d["peak_rss"],
        "output_bytes_vs_duckdb": t["output_bytes"] / d["output_bytes"],
        "peak_rss_full_vs_tenth": t["peak_rss"] / s["peak_rss"],
    }
    if tp1:
        result["trailpq_threads_1"] = rates(median_of(tp1))
        result["ratios"]["threads_2_vs_1"] = result["trailpq_threads_1"]["seconds"] / t["seconds"]
    per_record = t["json_bytes"] / t["records"]
    print(f"\nconvert {result['events']:,} events ({result['json_bytes'] / 1e9:.2f} GB of JSON, "
          f"{per_record:,.0f} bytes a record, --records-scale {scale}), {os.cpu_count()} cores, "
          f"medians of {runs} alternating runs:")
    show("trailpq", t)
    if tp1:
        show("trailpq --threads 1", result["trailpq_threads_1"])
    for mode, m in duck.items():
        show(f"duckdb {mode}", m)
    for mode in DUCKDB_MODES:
        if mode not in duck:
            print(f"  duckdb {mode:15} failed on this input")
    show(f"trailpq, {s['records']:,} events", s)
    r = result["ratios"]
    print(f"  against the fastest DuckDB set-up ({fastest}):")
    print(f"  records/s: trailpq {r['records_per_s_vs_duckdb']:.2f}x DuckDB's (target 2.5x)")
    if tp1:
        print(f"  --threads 2 vs 1: {r['threads_2_vs_1']:.2f}x")
    print(f"  peak RSS: {r['peak_rss_vs_duckdb']:.3f} of DuckDB's (target 0.1); "
          f"full / tenth of the events: {r['peak_rss_full_vs_tenth']:.2f}")
    print(f"  output bytes: {r['output_bytes_vs_duckdb']:.2f} of DuckDB's (target <= 1)")
    return result


def bench_delta(binary, out, events, runs, every="8MB"):
    """What a Delta commit costs: the tenth of the events converted with a checkpoint every
    `every` of input, into a Hive table and into a Delta table, R alternating runs each."""
    small = generate(binary, events // 10, out, 1)
    checkpoint = ["--checkpoint", every]
    hive, delta = [], []
    for i in range(runs):
        hive.append(trailpq_convert(binary, small, out / "lake-hive-cp", extra=checkpoint))
        delta.append(trailpq_convert(binary, small, out / "lake-delta-cp",
                                     extra=[*checkpoint, "--table-format", "delta"]))
        print(f"  run {i + 1}/{runs}: hive {hive[-1]['seconds']:.2f} s, delta {delta[-1]['seconds']:.2f} s",
              flush=True)
    h, d = rates(median_of(hive)), rates(median_of(delta))
    per = (d["seconds"] - h["seconds"]) / max(d["checkpoints"], 1)
    print(f"\nDelta commits: {d['records']:,} events, a checkpoint every {every} of input "
          f"({d['checkpoints']:.0f} checkpoints), medians of {runs} alternating runs:")
    show("trailpq hive", h)
    show("trailpq delta", d)
    print(f"  delta / hive wall: {d['seconds'] / h['seconds']:.3f}; "
          f"{per * 1000:.0f} ms more per checkpoint; peak RSS delta / hive "
          f"{d['peak_rss'] / h['peak_rss']:.2f}")
    return {"hive": h, "delta": d, "seconds_per_checkpoint": per}


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
    worst = max(rows, key=lambda r: r["ratio"])
    print(f"  geometric mean of trailpq / DuckDB: {geomean:.2f} (target <= 1.0); "
          f"worst {worst['query']} {worst['ratio']:.2f} (target <= 1.5)")
    return {"queries": rows, "geometric_mean_ratio": geomean}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("trailpq")
    p.add_argument("out")
    p.add_argument("--events", type=int, default=2_000_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json")
    p.add_argument("--skip-queries", action="store_true")
    p.add_argument("--larger-scale", type=int, default=2,
                   help="--records-scale of the second data shape (larger records)")
    a = p.parse_args()
    binary, out = str(Path(a.trailpq).resolve()), Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    figures = {"commit": commit, "cores": os.cpu_count(), "runs": a.runs}
    figures["convert"] = bench_convert(binary, out, a.events, a.runs, 1, threads_1=True)
    figures["convert_larger_records"] = bench_convert(
        binary, out, a.events, a.runs, a.larger_scale, threads_1=False
    )
    figures["delta_commits"] = bench_delta(binary, out, a.events, a.runs)
    if not a.skip_queries:
        figures.update(bench_queries(binary, out / "lake-full", a.runs))
    path = Path(a.json) if a.json else out / "bench.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nfigures written to {path}")


if __name__ == "__main__":
    main()
