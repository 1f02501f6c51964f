"""Describes Parquet files as pyarrow reads them, for trailpq's integration tests.

usage: parquet_meta.py FILE...

Prints a JSON list, one object per file: row-group sizes, key-value metadata, declared sorting
columns, and per leaf column its physical and logical type, the compressions and encodings used, and whether
every row group has statistics, a column index and an offset index.
"""

import json
import sys

import pyarrow.parquet as pq


def describe(path):
    meta = pq.ParquetFile(path).metadata
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    columns = []
    for j in range(meta.num_columns):
        column = meta.schema.column(j)
        chunks = [g.column(j) for g in groups]
        columns.append(
            {
                "path": column.path,
                "physical": column.physical_type,
                "logical": str(column.logical_type),
                "compressions": sorted({c.compression for c in chunks}),
                "encodings": sorted({e for c in chunks for e in c.encodings}),
                "statistics": all(c.statistics is not None and c.statistics.has_null_count for c in chunks),
                "min_max": all(c.statistics is not None and c.statistics.has_min_max for c in chunks),
                "column_index": all(c.has_column_index for c in chunks),
                "offset_index": all(c.has_offset_index for c in chunks),
            }
        )
    sorting = groups[0].sorting_columns if groups else ()
    return {
        "path": path,
        "rows": meta.num_rows,
        "row_groups": [g.num_rows for g in groups],
        "created_by": meta.created_by,
        "key_value": {k.decode(): v.decode() for k, v in (meta.metadata or {}).items() if k != b"ARROW:schema"},
        "sorting_columns": [
            {"path": meta.schema.column(s.column_index).path, "descending": s.descending, "nulls_first": s.nulls_first}
            for s in sorting
        ],
        "columns": columns,
    }


json.dump([describe(path) for path in sys.argv[1:]], sys.stdout)
