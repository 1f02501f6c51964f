//! `trailpq verify`: are these the logs AWS delivered? Log-file integrity validation, as AWS
//! documents it ("Custom implementations of CloudTrail log file integrity validation") and as
//! `aws cloudtrail validate-logs` does, on local copies as well as in S3.
//!
//! Every log file a digest lists must exist with the SHA-256 the digest gives; every digest must
//! chain to the previous one by hash; log files that no digest lists, in the hours the digests
//! cover, are unlisted. With public keys, each digest's signature is checked too.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read as _;
use std::sync::Arc;

use base64::Engine;
use chrono::NaiveDate;
use futures::StreamExt;
use object_store::{Attribute, ObjectStoreExt};
use serde::Serialize;

use crate::digest::{self, Digest, PublicKeys};
use crate::error::Result;
use crate::listing::{self, ListOptions, ListStats};
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
    /// Log files listed by digests whose log files could not be looked at (named in `unchecked`).
    pub log_files_unchecked: u64,
    /// Digests whose log files could not be checked, with the reason.
    pub unchecked: Vec<Problem>,
}

impl VerifyReport {
    pub fn valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// One line per problem: kind, object, why (for stdout).
    pub fn problems_text(&self) -> String {
        self.problems
            .iter()
            .map(|p| format!("{:<17} {}: {}\n", p.kind, p.key, p.detail))
            .collect()
    }

    /// The counts, for people (stderr); with the signatures when keys were given.
    pub fn summary(&self, signatures: bool) -> String {
        let mut out = format!(
            "trailpq: {} digests; log files: {} valid, {} modified, {} missing, {} unlisted; {} chain breaks\n",
            self.digests,
            self.log_files_valid,
            self.log_files_modified,
            self.log_files_missing,
            self.log_files_unlisted,
            self.chain_breaks
        );
        if self.log_files_unchecked > 0 {
            out.push_str(&format!(
                "trailpq: {} log files not checked: {} digests lie outside the AWSLogs/ layout with none of their log files beside them (the report's `unchecked` names them); give the folder that holds the logs too\n",
                self.log_files_unchecked,
                self.unchecked.len()
            ));
        }
        if signatures {
            out.push_str(&format!(
                "trailpq: signatures: {} valid, {} invalid, {} not available (a local copy keeps no S3 metadata; the newest digest of each chain is signed only there)\n",
                self.signatures_valid, self.signatures_invalid, self.signatures_unavailable
            ));
        }
        out
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
    loc: Arc<Location>,
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
    /// Found outside the AWSLogs/ layout (a downloaded copy).
    loose: bool,
}

/// A digest as read: or the reason it cannot be.
type Read = std::result::Result<DigestRead, (Object, String)>;

/// Verifies the logs under the sources.
pub async fn run(options: &VerifyOptions) -> Result<VerifyReport> {
    let trail = list_trail(&options.sources, options.since, options.until, false).await?;
    let mut check = Checker {
        report: VerifyReport::default(),
        listed: HashSet::new(),
        covered: HashMap::new(),
        trail: &trail,
        keys: options.public_keys.as_ref(),
    };
    for (chain, reads) in trail.chains().await {
        check.chain(&chain, reads).await;
    }
    let mut report = check.report;
    let (listed, covered) = (check.listed, check.covered);

    // Log files in the hours the digests cover that no digest lists.
    let mut unlisted: Vec<&Object> = trail
        .logs
        .iter()
        .filter(|(suffix, _)| !listed.contains(*suffix))
        .filter(|(_, object)| {
            let Some(key) = TrailKey::parse(&object.shown) else {
                return false;
            };
            let chain = chain_name(key.root, key.account, key.region);
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

/// A chain's name: its trail root, account and region.
fn chain_name(root: &str, account: &str, region: &str) -> String {
    format!("{root}/{account}/{region}")
}

/// Checks chains of digests, one after the other, into a report.
struct Checker<'t> {
    report: VerifyReport,
    /// Log files some digest lists, by key from `AWSLogs/` on.
    listed: HashSet<String>,
    /// Per chain: the delivery times its digests cover.
    covered: HashMap<String, (String, String)>,
    trail: &'t Trail,
    keys: Option<&'t PublicKeys>,
}

impl Checker<'_> {
    /// One chain's digests, in time order: each chains to the one before, vouches for its log
    /// files, and is signed.
    async fn chain(&mut self, chain: &str, results: Vec<Read>) {
        self.report.digests += results.len() as u64;
        let mut reads: Vec<Option<DigestRead>> = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(read) => reads.push(Some(read)),
                Err((object, why)) => {
                    self.report.problem("unreadable-digest", object.shown, why);
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
            if let Some(before) = previous {
                self.link(before, read);
            }
            self.log_files(read).await;
            if let Some(keys) = self.keys {
                let signature = read.signature.clone().or_else(|| {
                    reads
                        .get(i + 1)
                        .and_then(|next| next.as_ref())
                        .and_then(|next| next.digest.previous_digest_signature.clone())
                });
                check_signature(&mut self.report, keys, read, signature);
            }
            let span = self.covered.entry(chain.to_string()).or_insert_with(|| {
                (
                    read.digest.digest_start_time.clone(),
                    read.digest.digest_end_time.clone(),
                )
            });
            span.1 = read.digest.digest_end_time.clone();
            previous = Some(read);
        }
    }

    /// The chain: this digest names the previous one and its hash.
    fn link(&mut self, before: &DigestRead, read: &DigestRead) {
        let named = read
            .digest
            .previous_digest_s3_object
            .as_deref()
            .and_then(digest::from_awslogs);
        let expected = digest::from_awslogs(&before.digest.digest_s3_object);
        if named != expected {
            self.report.problem(
                "chain-break",
                read.object.shown.clone(),
                format!(
                    "follows {}, but the digest before it here is {}: digests are missing",
                    named.unwrap_or("nothing"),
                    before.object.shown
                ),
            );
        } else if read.digest.previous_digest_hash_value.as_deref() != Some(&before.hash) {
            self.report.problem(
                "chain-break",
                before.object.shown.clone(),
                format!(
                    "its SHA-256 is not the one the next digest ({}) records: the digest was changed",
                    read.object.shown
                ),
            );
        }
    }

    /// The log files a digest vouches for: each found, with the SHA-256 it records.
    async fn log_files(&mut self, read: &DigestRead) {
        let files = &read.digest.log_files;
        let objects: Vec<Option<&Object>> = files.iter().map(|f| self.trail.log(f)).collect();
        if read.loose && !files.is_empty() && objects.iter().all(Option::is_none) {
            // A downloaded copy of digests alone: nothing to compare its hashes with.
            self.report.unchecked.push(Problem {
                kind: "logs-not-found",
                key: read.object.shown.clone(),
                detail: format!(
                    "none of the {} log files it lists is under the SOURCEs (it lies outside the \
                     AWSLogs/ layout, and no file of theirs is beside it): its chain and signature \
                     were checked, its log files were not",
                    files.len()
                ),
            });
            self.report.log_files_unchecked += files.len() as u64;
            return;
        }
        let outcomes: Vec<Option<std::result::Result<String, String>>> =
            futures::stream::iter(objects.iter().copied())
                .map(|object| async move {
                    match object {
                        None => None,
                        Some(object) => Some(hash_of(object).await),
                    }
                })
                .buffered(32)
                .collect()
                .await;
        for ((file, object), outcome) in files.iter().zip(objects).zip(outcomes) {
            if let Some(suffix) = digest::from_awslogs(&file.s3_object) {
                self.listed.insert(suffix.to_string());
            }
            match (object, outcome) {
                (Some(_), Some(Ok(hash))) if hash == file.hash_value => {
                    self.report.log_files_valid += 1;
                }
                (Some(object), Some(Ok(_))) => self.report.problem(
                    "modified",
                    object.shown.clone(),
                    format!(
                        "its SHA-256 differs from the one {} records",
                        read.object.shown
                    ),
                ),
                (Some(object), Some(Err(why))) => self.report.problem(
                    "modified",
                    object.shown.clone(),
                    format!(
                        "cannot be read as gzip JSON ({why}); {} lists it",
                        read.object.shown
                    ),
                ),
                _ => self.report.problem(
                    "missing",
                    file.s3_object.clone(),
                    format!("listed by {} but not found", read.object.shown),
                ),
            }
        }
    }
}

/// The log files that digests under `sources` vouch for: their key from `AWSLogs/` on, and the
/// SHA-256 of their uncompressed content. A digest that the next one in its chain contradicts
/// (its content changed) vouches for nothing. For `convert --verify`, over the delivery days it
/// converts: digests of those days and the next (the last hour of a day is in the next day's
/// first digest).
pub async fn vouched(
    sources: &[String],
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
) -> Result<HashMap<String, String>> {
    let until = until.and_then(|d| d.succ_opt());
    let trail = list_trail(sources, since, until, true).await?;
    let mut vouched = HashMap::new();
    for (_, reads) in trail.chains().await {
        let reads: Vec<Option<DigestRead>> = reads.into_iter().map(|r| r.ok()).collect();
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

/// What the listing found of a trail: digests of the days asked for, and log files.
#[derive(Default)]
struct Trail {
    /// Digests in the layout, by chain ([`chain_name`]), with their names (which end in their
    /// time).
    chains: BTreeMap<String, Vec<(String, Object)>>,
    /// Digests outside the layout (downloaded copies): chained by what they say of themselves.
    loose_digests: Vec<Object>,
    /// Log files in the layout, by key from `AWSLogs/` on.
    logs: HashMap<String, Object>,
    /// Log files outside the layout, by file name.
    loose_logs: HashMap<String, Object>,
}

impl Trail {
    /// Where a log file a digest lists is: at its key in the layout, or a copy of the same name.
    fn log(&self, file: &digest::LogFile) -> Option<&Object> {
        let suffix = digest::from_awslogs(&file.s3_object)?;
        self.logs.get(suffix).or_else(|| {
            let name = suffix.rsplit('/').next()?;
            self.loose_logs.get(name)
        })
    }

    /// Every chain's digests, read, in time order.
    async fn chains(&self) -> Vec<(String, Vec<Read>)> {
        let mut chains = Vec::new();
        for (chain, names) in &self.chains {
            let mut names: Vec<&(String, Object)> = names.iter().collect();
            // Names end in the digest's end time: name order is time order.
            names.sort_by(|a, b| a.0.cmp(&b.0));
            let reads = read_all(names.into_iter().map(|(_, o)| o.clone()), false).await;
            chains.push((chain.clone(), reads));
        }
        // Downloaded copies: chained by the key each names for itself, in time order.
        let mut loose: BTreeMap<String, Vec<Read>> = BTreeMap::new();
        for read in read_all(self.loose_digests.iter().cloned(), true).await {
            let chain = match &read {
                Ok(r) => digest::from_awslogs(&r.digest.digest_s3_object)
                    .and_then(|key| {
                        let t = TrailKey::parse(key)?;
                        let chain = chain_name(t.root, t.account, t.region);
                        Some(format!("{}/{chain}", r.digest.digest_s3_bucket))
                    })
                    .unwrap_or_else(|| r.object.shown.clone()),
                Err((object, _)) => object.shown.clone(),
            };
            loose.entry(chain).or_default().push(read);
        }
        for (chain, mut reads) in loose {
            reads.sort_by(|a, b| match (a, b) {
                (Ok(a), Ok(b)) => a.digest.digest_end_time.cmp(&b.digest.digest_end_time),
                _ => std::cmp::Ordering::Equal,
            });
            chains.push((chain, reads));
        }
        chains
    }
}

/// Reads digests, several at a time, in the order given.
async fn read_all(objects: impl Iterator<Item = Object>, loose: bool) -> Vec<Read> {
    futures::stream::iter(objects)
        .map(|object| read_digest(object, loose))
        .buffered(16)
        .collect()
        .await
}

/// Lists the digests delivered from `since` to `until` and the log files they can name (from a
/// day earlier: a day's first digest covers the last hour of the day before), by the layout-aware
/// listing `convert` uses: only those days' folders are listed. Outside the layout, digests and
/// log files are recognised by their names. `digests_only` for `convert --verify`.
async fn list_trail(
    sources: &[String],
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
    digests_only: bool,
) -> Result<Trail> {
    let options = ListOptions {
        since: since.and_then(|d| d.pred_opt()),
        until,
        kinds: match digests_only {
            true => vec![Kind::Digest],
            false => vec![Kind::Logs, Kind::Digest],
        },
        full_scan: true,
        ..ListOptions::default()
    };
    let sources = listing::distinct_sources(sources)?;
    let stats = Arc::new(ListStats::default());
    let mut found = listing::list(sources, Arc::new(options), stats).await?;
    let mut trail = Trail::default();
    while let Some(item) = found.recv().await {
        let listing::Found { loc, meta } = item?;
        let key = loc.display(&meta.location);
        let object = Object {
            shown: key.clone(),
            loc,
            path: meta.location,
        };
        let Some(parsed) = TrailKey::parse(&key) else {
            let name = key.rsplit('/').next().unwrap_or_default();
            if name.contains("_CloudTrail-Digest_") {
                trail.loose_digests.push(object);
            } else if name.contains("_CloudTrail_") && !digests_only {
                trail.loose_logs.insert(name.to_string(), object);
            }
            continue;
        };
        match parsed.kind {
            Kind::Digest if since.is_none_or(|d| parsed.day >= d) => {
                let chain = chain_name(parsed.root, parsed.account, parsed.region);
                trail
                    .chains
                    .entry(chain)
                    .or_default()
                    .push((parsed.name.to_string(), object));
            }
            Kind::Logs if !digests_only => {
                if let Some(suffix) = digest::from_awslogs(&key) {
                    trail.logs.insert(suffix.to_string(), object);
                }
            }
            _ => {}
        }
    }
    Ok(trail)
}

/// Reads a digest: its content, hash and signature (from S3 metadata, where there is one).
async fn read_digest(object: Object, loose: bool) -> Read {
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
        loose,
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
