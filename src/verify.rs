//! `trailpq verify`: are these the logs AWS delivered? Log-file integrity validation, as AWS
//! documents it ("Custom implementations of CloudTrail log file integrity validation") and as
//! `aws cloudtrail validate-logs` does, on local copies as well as in S3.
//!
//! Every log file a digest lists must exist with the SHA-256 the digest gives; every digest must
//! chain to the previous one by hash; log files that no digest lists, in the hours the digests
//! cover, are unlisted. With public keys, each digest's signature is checked too.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

use base64::Engine;
use chrono::NaiveDate;
use futures::{StreamExt, TryStreamExt};
use object_store::{Attribute, ObjectStoreExt};
use serde::Serialize;

use crate::digest::{self, Digest, PublicKeys};
use crate::error::{Error, Result};
use crate::sources::{Kind, TrailKey};
use crate::store::{Location, describe};

/// What to verify.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    pub sources: Vec<String>,
    /// Only digests delivered on or after this day (UTC).
    pub since: Option<NaiveDate>,
    /// Only digests delivered on or before this day (UTC).
    pub until: Option<NaiveDate>,
    /// Keys to check signatures with (`aws cloudtrail list-public-keys`).
    pub public_keys: Option<PublicKeys>,
}

/// One thing that is not as the digests say.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// `modified`, `missing`, `unlisted`, `chain-break`, `bad-signature`, `unreadable-digest`.
    pub kind: &'static str,
    /// The object concerned.
    pub key: String,
    pub detail: String,
}

/// What was found. Serialised as `--report`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    pub digests: u64,
    pub log_files_valid: u64,
    pub log_files_modified: u64,
    pub log_files_missing: u64,
    pub log_files_unlisted: u64,
    pub chain_breaks: u64,
    pub signatures_valid: u64,
    pub signatures_invalid: u64,
    /// Digests whose signature could not be had (a local copy keeps no S3 metadata, and the
    /// newest digest of a chain has no successor repeating it): named in `unsigned`.
    pub signatures_unavailable: u64,
    pub problems: Vec<Problem>,
    pub unsigned: Vec<String>,
}

impl VerifyReport {
    pub fn valid(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, kind: &'static str, key: String, detail: String) {
        match kind {
            "modified" => self.log_files_modified += 1,
            "missing" => self.log_files_missing += 1,
            "unlisted" => self.log_files_unlisted += 1,
            "chain-break" => self.chain_breaks += 1,
            "bad-signature" => self.signatures_invalid += 1,
            _ => {}
        }
        self.problems.push(Problem { kind, key, detail });
    }
}

/// An object found under a SOURCE.
#[derive(Clone)]
struct Object {
    loc: Location,
    path: object_store::path::Path,
    /// What users see: the file path or URL.
    shown: String,
}

/// A digest read.
struct DigestRead {
    object: Object,
    digest: Digest,
    /// SHA-256 of its uncompressed content.
    hash: String,
    /// From the object's metadata (S3), if any.
    signature: Option<String>,
}

/// Verifies the logs under the sources.
pub async fn run(options: &VerifyOptions) -> Result<VerifyReport> {
    let (digests, logs) = list_trail(&options.sources, options.since, options.until).await?;

    let mut report = VerifyReport::default();
    let mut listed: HashSet<String> = HashSet::new();
    // Per chain: the delivery times the digests cover.
    let mut covered: HashMap<String, (String, String)> = HashMap::new();
    for ((_, chain), mut names) in digests {
        // Names end in the digest's end time: name order is time order.
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let results: Vec<_> = futures::stream::iter(names)
            .map(|(_, object)| read_digest(object))
            .buffered(16)
            .collect()
            .await;
        report.digests += results.len() as u64;
        let mut reads: Vec<Option<DigestRead>> = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(read) => reads.push(Some(read)),
                Err((object, why)) => {
                    report.problem("unreadable-digest", object.shown, why);
                    reads.push(None);
                }
            }
        }
        let mut previous: Option<&DigestRead> = None;
        for (i, read) in reads.iter().enumerate() {
            let Some(read) = read else {
                previous = None;
                continue;
            };
            // The chain: this digest names the previous one and its hash.
            if let Some(before) = previous {
                let named = read
                    .digest
                    .previous_digest_s3_object
                    .as_deref()
                    .and_then(digest::from_awslogs);
                let expected = digest::from_awslogs(&before.digest.digest_s3_object);
                if named != expected {
                    report.problem(
                        "chain-break",
                        read.object.shown.clone(),
                        format!(
                            "follows {}, but the digest before it here is {}: digests are missing",
                            named.unwrap_or("nothing"),
                            before.object.shown
                        ),
                    );
                } else if read.digest.previous_digest_hash_value.as_deref() != Some(&before.hash) {
                    report.problem(
                        "chain-break",
                        before.object.shown.clone(),
                        format!(
                            "its SHA-256 is not the one the next digest ({}) records: the digest was changed",
                            read.object.shown
                        ),
                    );
                }
            }
            // The log files it vouches for.
            let checks = futures::stream::iter(read.digest.log_files.clone())
                .map(|file| {
                    let object = digest::from_awslogs(&file.s3_object)
                        .and_then(|suffix| logs.get(suffix))
                        .cloned();
                    async move {
                        let outcome = match &object {
                            None => None,
                            Some(object) => Some(hash_of(object).await),
                        };
                        (file, object, outcome)
                    }
                })
                .buffered(32)
                .collect::<Vec<_>>()
                .await;
            for (file, object, outcome) in checks {
                if let Some(suffix) = digest::from_awslogs(&file.s3_object) {
                    listed.insert(suffix.to_string());
                }
                match (object, outcome) {
                    (None, _) | (_, None) => report.problem(
                        "missing",
                        file.s3_object.clone(),
                        format!("listed by {} but not found", read.object.shown),
                    ),
                    (Some(_), Some(Ok(hash))) if hash == file.hash_value => {
                        report.log_files_valid += 1;
                    }
                    (Some(object), Some(Ok(_))) => report.problem(
                        "modified",
                        object.shown.clone(),
                        format!(
                            "its SHA-256 differs from the one {} records",
                            read.object.shown
                        ),
                    ),
                    (Some(object), Some(Err(why))) => report.problem(
                        "modified",
                        object.shown.clone(),
                        format!(
                            "cannot be read as gzip JSON ({why}); {} lists it",
                            read.object.shown
                        ),
                    ),
                }
            }
            // Its signature.
            if let Some(keys) = &options.public_keys {
                let signature = read.signature.clone().or_else(|| {
                    reads
                        .get(i + 1)
                        .and_then(|next| next.as_ref())
                        .and_then(|next| next.digest.previous_digest_signature.clone())
                });
                check_signature(&mut report, keys, read, signature);
            }
            let span = covered.entry(chain.clone()).or_insert_with(|| {
                (
                    read.digest.digest_start_time.clone(),
                    read.digest.digest_end_time.clone(),
                )
            });
            span.1 = read.digest.digest_end_time.clone();
            previous = Some(read);
        }
    }

    // Log files in the hours the digests cover that no digest lists.
    let mut unlisted: Vec<&Object> = logs
        .iter()
        .filter(|(suffix, _)| !listed.contains(*suffix))
        .filter(|(suffix, _)| {
            let Some(key) = TrailKey::parse(suffix) else {
                return false;
            };
            let chain = format!("{}/{}", key.account, key.region);
            let (Some((start, end)), Some(at)) = (covered.get(&chain), delivery_time(key.name))
            else {
                return false;
            };
            at.as_str() > start.as_str() && at.as_str() <= end.as_str()
        })
        .map(|(_, object)| object)
        .collect();
    unlisted.sort_by(|a, b| a.shown.cmp(&b.shown));
    for object in unlisted {
        report.problem(
            "unlisted",
            object.shown.clone(),
            "delivered in an hour the digests cover, but no digest lists it".into(),
        );
    }
    Ok(report)
}

/// The log files that digests under `sources` vouch for: their key from `AWSLogs/` on, and the
/// SHA-256 of their uncompressed content. A digest that the next one in its chain contradicts
/// (its content changed) vouches for nothing. For `convert --verify`.
pub async fn vouched(sources: &[String]) -> Result<HashMap<String, String>> {
    let (chains, _) = list_trail(sources, None, None).await?;
    let mut vouched = HashMap::new();
    for (_, mut names) in chains {
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let reads: Vec<Option<DigestRead>> = futures::stream::iter(names)
            .map(|(_, object)| read_digest(object))
            .buffered(16)
            .map(|r| r.ok())
            .collect()
            .await;
        for (i, read) in reads.iter().enumerate() {
            let Some(read) = read else { continue };
            let contradicted =
                reads
                    .get(i + 1)
                    .and_then(|next| next.as_ref())
                    .is_some_and(|next| {
                        next.digest.previous_digest_hash_value.as_deref()
                            != Some(read.hash.as_str())
                    });
            if contradicted {
                continue;
            }
            for file in &read.digest.log_files {
                if let Some(suffix) = digest::from_awslogs(&file.s3_object) {
                    vouched.insert(suffix.to_string(), file.hash_value.clone());
                }
            }
        }
    }
    Ok(vouched)
}

/// Whether a digest vouches for a log file's content (`None`: none lists it).
pub fn vouches(
    vouched: &HashMap<String, String>,
    key: &str,
    raw: &[u8],
) -> std::result::Result<(), String> {
    let expected = digest::from_awslogs(key)
        .and_then(|suffix| vouched.get(suffix))
        .ok_or("no valid digest lists it (--verify converts only what a digest vouches for)")?;
    let content = gunzip(raw)?;
    if digest::sha256_hex(&content) != *expected {
        return Err(
            "its SHA-256 differs from the one its digest records: it changed after delivery".into(),
        );
    }
    Ok(())
}

/// Digests by chain, name (time) order left to the caller: (root, `account/region`) → (name,
/// object); and log files by key from `AWSLogs/` on. Only digests of the days asked for.
#[allow(clippy::type_complexity)]
async fn list_trail(
    sources: &[String],
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
) -> Result<(
    BTreeMap<(String, String), Vec<(String, Object)>>,
    HashMap<String, Object>,
)> {
    let mut digests: BTreeMap<(String, String), Vec<(String, Object)>> = BTreeMap::new();
    let mut logs: HashMap<String, Object> = HashMap::new();
    for source in sources {
        let loc = Location::parse(source)?;
        let mut listing = loc.store.list(Some(&loc.prefix));
        while let Some(meta) = listing
            .try_next()
            .await
            .map_err(|e| Error::Failed(format!("cannot list {source}: {}", describe(&e))))?
        {
            let key = meta.location.as_ref().to_string();
            let Some(parsed) = TrailKey::parse(&key) else {
                continue;
            };
            let Some(suffix) = digest::from_awslogs(&key) else {
                continue;
            };
            let object = Object {
                shown: loc.display(&meta.location),
                loc: loc.clone(),
                path: meta.location.clone(),
            };
            match parsed.kind {
                Kind::Digest => {
                    let in_range = since.is_none_or(|d| parsed.day >= d)
                        && until.is_none_or(|d| parsed.day <= d);
                    if in_range {
                        // One chain per account and region (and organisation).
                        let chain = (
                            parsed.root.to_string(),
                            format!("{}/{}", parsed.account, parsed.region),
                        );
                        digests
                            .entry(chain)
                            .or_default()
                            .push((parsed.name.to_string(), object));
                    }
                }
                Kind::Logs => {
                    logs.insert(suffix.to_string(), object);
                }
                Kind::Insight => {}
            }
        }
    }

    Ok((digests, logs))
}

/// Reads a digest: its content, hash and signature (from S3 metadata, where there is one).
async fn read_digest(object: Object) -> std::result::Result<DigestRead, (Object, String)> {
    let got = match object.loc.store.get(&object.path).await {
        Ok(got) => got,
        Err(e) => return Err((object, describe(&e))),
    };
    let signature = got
        .attributes
        .get(&Attribute::Metadata("signature".into()))
        .map(|v| v.to_string());
    let bytes = match got.bytes().await {
        Ok(bytes) => bytes,
        Err(e) => return Err((object, describe(&e))),
    };
    let content = match gunzip(&bytes) {
        Ok(content) => content,
        Err(e) => return Err((object, e)),
    };
    let digest: Digest = match serde_json::from_slice(&content) {
        Ok(d) => d,
        Err(e) => return Err((object, format!("not a digest: {e}"))),
    };
    Ok(DigestRead {
        hash: digest::sha256_hex(&content),
        object,
        digest,
        signature,
    })
}

/// SHA-256 of a log file's uncompressed content.
async fn hash_of(object: &Object) -> std::result::Result<String, String> {
    let bytes = object
        .loc
        .get_bytes(&object.path)
        .await
        .map_err(|e| describe(&e))?;
    Ok(digest::sha256_hex(&gunzip(&bytes)?))
}

fn gunzip(bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::with_capacity(bytes.len() * 8);
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| format!("broken gzip: {e}"))?;
    Ok(out)
}

/// The delivery time in a log file's name (`…_20240501T1205Z_…`), as `2024-05-01T12:05:00Z`.
fn delivery_time(name: &str) -> Option<String> {
    let stamp = name
        .split('_')
        .find(|p| p.len() == 14 && p.ends_with('Z') && p.as_bytes()[8] == b'T')?;
    Some(format!(
        "{}-{}-{}T{}:{}:00Z",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13]
    ))
}

fn check_signature(
    report: &mut VerifyReport,
    keys: &PublicKeys,
    read: &DigestRead,
    signature: Option<String>,
) {
    let Some(signature) = signature else {
        report.signatures_unavailable += 1;
        report.unsigned.push(read.object.shown.clone());
        return;
    };
    let fingerprint = read
        .digest
        .digest_public_key_fingerprint
        .as_deref()
        .unwrap_or("");
    let key = keys
        .public_key_list
        .iter()
        .find(|k| k.fingerprint == fingerprint)
        .and_then(|k| {
            base64::engine::general_purpose::STANDARD
                .decode(&k.value)
                .ok()
        });
    let Some(key) = key else {
        report.problem(
            "bad-signature",
            read.object.shown.clone(),
            format!("no public key with fingerprint {fingerprint} in --public-keys"),
        );
        return;
    };
    let data = digest::signing_string(
        &read.digest.digest_end_time,
        &format!(
            "{}/{}",
            read.digest.digest_s3_bucket, read.digest.digest_s3_object
        ),
        &read.hash,
        read.digest.previous_digest_signature.as_deref(),
    );
    if digest::signature_valid(&key, data.as_bytes(), &signature) {
        report.signatures_valid += 1;
    } else {
        report.problem(
            "bad-signature",
            read.object.shown.clone(),
            "its SHA256withRSA signature does not match its content".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_times_come_from_log_file_names() {
        assert_eq!(
            delivery_time(
                "111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz"
            )
            .as_deref(),
            Some("2015-08-01T02:10:00Z")
        );
        assert_eq!(delivery_time("README.md"), None);
    }
}
