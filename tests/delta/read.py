"""Reads a Delta table written by trailpq with readers other than trailpq (tests/it/delta.rs).

    read.py count TABLE [--version N]      rows of the latest (or version N) snapshot, deltalake
    read.py versions TABLE                 "version rows" for every version, deltalake
    read.py duckdb TABLE                   rows, distinct event ids and the latest version, DuckDB
    read.py loop TABLE STOP OUT            counts the latest snapshot until STOP exists, a line
                                           "version rows" (or "error message") each time, in OUT

TABLE is a folder or an s3:// URL; for S3, the AWS_* variables of the S3 tests name the
endpoint and credentials. DuckDB loads its delta extension from the duckdb-ext-delta wheel, with
no network.
"""

import json
import os
import sys
import time

from deltalake import DeltaTable


def storage():
    keys = ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"]
    options = {k: os.environ[k] for k in keys if k in os.environ}
    if options:
        options["AWS_ALLOW_HTTP"] = "true"
        options["AWS_CONDITIONAL_PUT"] = "etag"
    return options


def table(uri, version=None):
    return DeltaTable(uri, version=version, storage_options=storage())


def rows(t):
    # Row counts from the data itself, not from the statistics trailpq wrote.
    return t.to_pyarrow_dataset().count_rows()


def duckdb_read(uri):
    con = duckdb_connect()
    count, ids, days, first = con.execute(
        "SELECT count(*), count(DISTINCT event_id), count(DISTINCT event_date), min(event_time)::VARCHAR "
        "FROM delta_scan(?)",
        [uri],
    ).fetchone()
    print(json.dumps({"rows": count, "event_ids": ids, "days": days, "first": first}))


def duckdb_ddl(path):
    """Runs `trailpq ddl duckdb` output, then counts the view and the OCSF views."""
    con = duckdb_connect()
    con.execute(open(path).read())
    out = {}
    for view in ["cloudtrail", "ocsf_api_activity", "ocsf_authentication", "ocsf_account_change"]:
        out[view] = con.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
    print(json.dumps(out))


def duckdb_connect():
    import duckdb
    import duckdb_ext

    extensions = os.path.join(list(duckdb_ext.__path__)[0], "extensions")
    con = duckdb.connect(config={"extension_directory": extensions, "autoinstall_known_extensions": False})
    con.execute("LOAD delta")
    return con


def main():
    command, uri = sys.argv[1], sys.argv[2]
    if command == "count":
        version = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--version" else None
        t = table(uri, version)
        print(json.dumps({"version": t.version(), "rows": rows(t)}))
    elif command == "versions":
        latest = table(uri).version()
        out = {}
        for v in range(0, latest + 1):
            out[v] = rows(table(uri, v))
        print(json.dumps(out))
    elif command == "duckdb":
        duckdb_read(uri)
    elif command == "ddl":
        duckdb_ddl(uri)
    elif command == "loop":
        stop, out = sys.argv[3], sys.argv[4]
        with open(out, "w") as f:
            while not os.path.exists(stop):
                try:
                    t = table(uri)
                    f.write(f"{t.version()} {rows(t)}\n")
                except Exception as e:  # every failure is a finding: the test reads them
                    f.write("error " + str(e).replace("\n", " ") + "\n")
                f.flush()
            # One more after the writers stopped.
            t = table(uri)
            f.write(f"{t.version()} {rows(t)}\n")
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
