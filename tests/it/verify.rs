//! `trailpq verify`: generated logs with digests signed the way CloudTrail signs them are valid;
//! a changed log file, a deleted one and a changed digest are each named, with exit code 3.

use std::path::Path;

use crate::common::*;

fn report(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn digests_vouch_for_the_logs_and_every_change_is_named() {
    let out = tempdir();
    let logs = out.path().join("logs");
    let keys = out.path().join("public-keys.json");
    trailpq(&[
        "generate",
        "--out",
        path_str(&logs),
        "--events",
        "3000",
        "--days",
        "1",
        "--start",
        "2024-05-01",
        "--seed",
        "3",
        "--public-keys",
        path_str(&keys),
    ])
    .expect(0);
    let json = out.path().join("verify.json");
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", path_str(&logs), "--report", path_str(&json)];
        args.extend(extra);
        trailpq(&args)
    };

    let run = verify(&["--public-keys", path_str(&keys)]).expect(0);
    assert!(
        run.stderr
            .contains("0 modified, 0 missing, 0 unlisted; 0 chain breaks"),
        "{}",
        run.stderr
    );
    let r = report(&json);
    assert_eq!(r["digests"], 72, "{r}");
    assert_eq!(r["log_files_valid"], 720, "{r}");
    // The newest digest of each of the three chains is signed only in its S3 metadata.
    assert_eq!(
        (
            r["signatures_valid"].as_u64(),
            r["signatures_unavailable"].as_u64()
        ),
        (Some(69), Some(3)),
        "{r}"
    );

    // One log file changed, one deleted, one digest changed.
    let files = files_under(&logs);
    let log_files: Vec<&String> = files
        .iter()
        .filter(|f| f.contains("/CloudTrail/"))
        .collect();
    let digests: Vec<&String> = files
        .iter()
        .filter(|f| f.contains("/CloudTrail-Digest/"))
        .collect();
    let (changed, deleted, digest) = (log_files[10], log_files[20], digests[1]);
    let text = String::from_utf8(gunzip_file(&logs.join(changed))).unwrap();
    gzip_file(
        &logs.join(changed),
        text.replacen("\"eventName\":\"", "\"eventName\":\"X", 1)
            .as_bytes(),
    );
    std::fs::remove_file(logs.join(deleted)).unwrap();
    let text = String::from_utf8(gunzip_file(&logs.join(digest))).unwrap();
    gzip_file(
        &logs.join(digest),
        text.replacen("\"logFiles\":[", "\"logFiles\":[ ", 1)
            .as_bytes(),
    );

    let run = verify(&["--public-keys", path_str(&keys)]).expect(3);
    let r = report(&json);
    let named = |kind: &str, key: &str| {
        r["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["kind"] == kind && p["key"].as_str().unwrap().ends_with(key))
    };
    assert!(named("modified", changed), "{r}");
    assert!(run.stdout.contains(changed.as_str()), "{}", run.stdout);
    let deleted_key = deleted.split_once("AWSLogs/").unwrap().1;
    assert!(named("missing", deleted_key), "{r}");
    assert!(named("chain-break", digest), "{r}");
    assert!(named("bad-signature", digest), "{r}");
    assert_eq!(r["log_files_modified"], 1, "{r}");
    assert_eq!(r["log_files_missing"], 1, "{r}");
    assert_eq!(r["chain_breaks"], 1, "{r}");
    assert!(
        run.stderr.contains("1 modified, 1 missing"),
        "{}",
        run.stderr
    );

    // Without digests there is nothing to vouch for: a clear failure, not a silent pass.
    let empty = out.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    one_line_error(trailpq(&["verify", path_str(&empty)]), 1, "no digest files");
}

#[test]
fn convert_verify_converts_only_what_a_digest_vouches_for() {
    let out = tempdir();
    let logs = generate(&out.path().join("logs"), 1_500, 1, "2024-05-01", 8);
    let mut files: Vec<String> = files_under(&logs)
        .into_iter()
        .filter(|f| f.contains("/CloudTrail/"))
        .collect();
    files.sort();
    let changed = &files[4];
    let text = String::from_utf8(gunzip_file(&logs.join(changed))).unwrap();
    gzip_file(
        &logs.join(changed),
        text.replacen("\"eventName\":\"", "\"eventName\":\"X", 1)
            .as_bytes(),
    );
    let lake = out.path().join("lake");
    let (run, r) = convert(&[&logs], &lake, &["--verify", "-q"]);
    run.expect(3);
    let quarantined: Vec<(&str, &str)> = r["files_quarantined"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["source"].as_str().unwrap(), q["reason"].as_str().unwrap()))
        .collect();
    assert!(
        quarantined
            .iter()
            .any(|(f, why)| f.ends_with(changed.as_str()) && why.contains("SHA-256 differs")),
        "{quarantined:?}"
    );
    // The last delivery of the day comes after the last digest: nothing vouches for it yet.
    assert!(
        quarantined
            .iter()
            .any(|(_, why)| why.contains("no valid digest lists it")),
        "{quarantined:?}"
    );
    let converted = r["files_converted"].as_u64().unwrap();
    assert_eq!(r["files_verified"].as_u64().unwrap(), converted);
    assert_eq!(converted as usize + quarantined.len(), files.len());
}
