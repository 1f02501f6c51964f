"""Runs SQL in a real engine for trailpq's integration tests (tests/it/engines.rs).

usage: run_sql.py duckdb|spark STEPS.json

STEPS.json is a list of steps, run in order:
  {"execute": "STATEMENT; STATEMENT; ..."}  runs statements (a DDL file as `trailpq ddl` prints it)
  {"name": NAME, "sql": QUERY}             runs one query and keeps its rows under NAME

Prints one JSON object: {NAME: {"columns": [[name, type], ...], "rows": [{column: value}, ...]}}
or {NAME: {"error": message}}. Values are made comparable across engines: nulls are left out,
timestamps become UTC ISO strings with microseconds, dates ISO strings.
"""

import datetime
import json
import os
import re
import sys
import time

os.environ["TZ"] = "UTC"
time.tzset()

UTC = datetime.timezone.utc


def plain(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:  # Spark hands back session-time (UTC) values without a zone
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None}
    if hasattr(value, "asDict"):  # a Spark Row inside a value
        return plain(value.asDict())
    return value


def statements(text):
    """Splits a DDL script into statements: `--` comment lines dropped, `;` at a line end ends one."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in re.split(r";[ \t]*$", body, flags=re.M) if s.strip()]


class DuckDB:
    def __init__(self):
        import duckdb

        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")

    def execute(self, sql):
        for statement in statements(sql):
            self.con.execute(statement)

    def query(self, sql):
        relation = self.con.sql(sql)
        columns = [[name, str(ty)] for name, ty in zip(relation.columns, relation.types)]
        names = relation.columns
        return columns, [dict(zip(names, row)) for row in relation.fetchall()]


class Spark:
    def __init__(self):
        from pyspark.sql import SparkSession

        home = os.getcwd()
        self.spark = (
            SparkSession.builder.master("local[2]")
            .appName("trailpq-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "2")
            # Athena does not substitute ${...}; Spark would blank the projection template.
            .config("spark.sql.variable.substitute", "false")
            .config("spark.sql.warehouse.dir", os.path.join(home, "warehouse"))
            .config(
                "spark.hadoop.javax.jdo.option.ConnectionURL",
                f"jdbc:derby:;databaseName={os.path.join(home, 'metastore')};create=true",
            )
            .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={home} -Duser.timezone=UTC")
            .enableHiveSupport()
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")

    def execute(self, sql):
        for statement in statements(sql):
            self.spark.sql(statement)

    def query(self, sql):
        frame = self.spark.sql(sql)
        columns = [[f.name, f.dataType.simpleString()] for f in frame.schema.fields]
        return columns, [row.asDict(recursive=True) for row in frame.collect()]


def main():
    engine_name, steps_file = sys.argv[1:3]
    engine = {"duckdb": DuckDB, "spark": Spark}[engine_name]()
    with open(steps_file) as f:
        steps = json.load(f)
    results = {}
    for step in steps:
        if "execute" in step:
            engine.execute(step["execute"])
            continue
        try:
            columns, rows = engine.query(step["sql"])
            results[step["name"]] = {"columns": columns, "rows": [plain(row) for row in rows]}
        except Exception as error:  # reported per query, so one failure does not hide the others
            results[step["name"]] = {"error": str(error).strip().splitlines()[0]}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
