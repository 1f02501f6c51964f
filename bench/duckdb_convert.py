#!/usr/bin/env python3
"""DuckDB's side of the convert benchmark: the generated logs into Parquet partitioned by event
date, the way a DuckDB user would do it.

    bench/duckdb_convert.py INPUT_DIR OUT_DIR [auto|depth4]

`read_json` reads the S3 delivery files (`{"Records":[...]}`, gzip) in one of two set-ups:

- `auto`: automatic schema detection, as a user first types it (nested objects become structs
  where their samples agree, JSON where they do not);
- `depth4`: detection down to the records' own fields (`maximum_depth=4`: scalars typed, nested
  objects such as requestParameters as JSON, which is also how trailpq stores them).

`COPY ... PARTITION_BY` writes zstd Parquet, one folder per day. Default settings otherwise: all
cores, DuckDB's memory limit.
"""

import sys

import duckdb

source, dest = sys.argv[1], sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else "depth4"
options = {"auto": "", "depth4": ", maximum_depth = 4"}[mode]
files = f"{source}/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"
duckdb.connect().execute(
    f"""
    COPY (
        SELECT unnest(r), CAST(r.eventTime AS DATE) AS event_date
        FROM (SELECT unnest(Records) AS r FROM read_json('{files}'{options}))
    ) TO '{dest}' (FORMAT parquet, PARTITION_BY (event_date), COMPRESSION zstd)
    """
)
