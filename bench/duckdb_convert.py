#!/usr/bin/env python3
"""DuckDB's side of the convert benchmark: the generated logs into Parquet partitioned by event
date, the way a DuckDB user would do it.

    bench/duckdb_convert.py INPUT_DIR OUT_DIR

`read_json` reads the S3 delivery files (`{"Records":[...]}`, gzip) with automatic schema
detection down to the records' own fields (`maximum_depth=4`: scalars typed, nested objects such
as requestParameters as JSON, which is also how trailpq stores them; deeper detection fails on
CloudTrail, whose request parameters change type from one API to the next). `COPY ... PARTITION_BY`
writes zstd Parquet, one folder per day. Default settings otherwise: all cores, DuckDB's memory
limit.
"""

import sys

import duckdb

source, dest = sys.argv[1], sys.argv[2]
files = f"{source}/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"
duckdb.connect().execute(
    f"""
    COPY (
        SELECT unnest(r), CAST(r.eventTime AS DATE) AS event_date
        FROM (SELECT unnest(Records) AS r FROM read_json('{files}', maximum_depth = 4))
    ) TO '{dest}' (FORMAT parquet, PARTITION_BY (event_date), COMPRESSION zstd)
    """
)
