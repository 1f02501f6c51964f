//! The output read back by real DuckDB: types, partitions and values as written.

use crate::common::*;

#[test]
fn duckdb_reads_the_output_as_written() {
    let out = tempdir();
    let dest = out.path().join("lake");
    convert(
        &[&real_data(), &sample_data()],
        &dest,
        &["--partition-by", "account_id,event_date", "-q"],
    )
    .0
    .expect(0);
    let glob = format!("{}/cloudtrail/**/*.parquet", path_str(&dest));
    let scan = format!(
        "read_parquet('{glob}', hive_partitioning = true, hive_types = {{'account_id': VARCHAR, 'event_date': VARCHAR}})"
    );
    assert_eq!(duckdb(&format!("SELECT count(*) FROM {scan}")), ["4782"]);
    let types = duckdb(&format!(
        "SELECT column_name, column_type FROM (DESCRIBE SELECT event_time, session_creation_date, read_only, resources, source_index, account_id FROM {scan})"
    ));
    assert_eq!(
        types,
        [
            "event_time\tTIMESTAMP WITH TIME ZONE",
            "session_creation_date\tTIMESTAMP WITH TIME ZONE",
            "read_only\tBOOLEAN",
            "resources\tSTRUCT(arn VARCHAR, account_id VARCHAR, \"type\" VARCHAR)[]",
            "source_index\tBIGINT",
            "account_id\tVARCHAR",
        ]
    );
    // Partition values read back equal to the column they come from: leading zeros kept, and
    // Hive's NULL folder read as NULL.
    let differ = duckdb(&format!(
        "SELECT count(*) FROM {scan} WHERE account_id IS DISTINCT FROM recipient_account_id"
    ));
    assert_eq!(differ, ["0"]);
    let generated = duckdb(&format!(
        "SELECT count(*) FROM {scan} WHERE account_id = '012345678901'"
    ));
    assert_ne!(generated, ["0"]);
    // Values are what the records say.
    let rows = duckdb(&format!(
        "SELECT event_name, error_code, user_arn, strftime(event_time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S') FROM {scan} \
         WHERE event_source = 'chime.amazonaws.com' AND event_name = 'AddDomain' AND source_key LIKE '%/data/awsdocs/%'"
    ));
    assert_eq!(
        rows,
        [
            "AddDomain\tConflictException\tarn:aws:iam::123456789012:user/Alice \t2017-07-24T17:58:21"
        ]
    );
    // Each file is sorted by time.
    let unsorted = duckdb(&format!(
        "SELECT count(*) FROM (SELECT event_time < lag(event_time) OVER (PARTITION BY filename ORDER BY file_row_number) AS back \
         FROM read_parquet('{glob}', filename = true, file_row_number = true)) WHERE back"
    ));
    assert_eq!(unsorted, ["0"]);
}
