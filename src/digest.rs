//! CloudTrail digest files: their content, the hashes and signatures of log-file integrity
//! validation, and checking them (`trailpq verify`, `convert --verify`).
//!
//! A digest file (`…/CloudTrail-Digest/REGION/YYYY/MM/DD/…json.gz`), written every hour per account
//! and region, lists the log files delivered in that hour with the SHA-256 of each one's
//! uncompressed content, and chains to the previous digest by the SHA-256 of its uncompressed
//! content and its signature. Each digest is signed (SHA256withRSA) over the data-signing string
//! ([`signing_string`]); CloudTrail keeps the signature in the object's `x-amz-meta-signature`
//! metadata, and the next digest repeats it as `previousDigestSignature`.

use ring::digest::{SHA256, digest};
use serde::Deserialize;

/// SHA-256 of `bytes`, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha256(bytes))
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    digest(&SHA256, bytes)
        .as_ref()
        .try_into()
        .expect("SHA-256 is 32 bytes")
}

/// A short name for a public key (the first 16 bytes of its SHA-256, hex). AWS names its keys by
/// its own fingerprint, given in `list-public-keys`; this one names the generator's key.
pub fn fingerprint(public_key_der: &[u8]) -> String {
    sha256_hex(public_key_der)[..32].to_string()
}

/// The data-signing string of a digest, as AWS documents it: end time, `bucket/key` of the
/// digest, SHA-256 of its uncompressed content, and the previous digest's signature (`null` for
/// the first of a chain), one per line.
pub fn signing_string(end_time: &str, s3_path: &str, hash: &str, previous: Option<&str>) -> String {
    format!(
        "{end_time}\n{s3_path}\n{hash}\n{}",
        previous.unwrap_or("null")
    )
}

/// Checks a SHA256withRSA signature (hex) with a public key (PKCS#1 DER, as AWS gives them).
pub fn signature_valid(public_key_der: &[u8], data: &[u8], signature_hex: &str) -> bool {
    let Ok(signature) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key_der,
    )
    .verify(data, &signature)
    .is_ok()
}

/// The fields of a digest file that validation reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    pub digest_start_time: String,
    pub digest_end_time: String,
    pub digest_s3_bucket: String,
    pub digest_s3_object: String,
    #[serde(default)]
    pub digest_public_key_fingerprint: Option<String>,
    #[serde(default)]
    pub previous_digest_s3_object: Option<String>,
    #[serde(default)]
    pub previous_digest_hash_value: Option<String>,
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    #[serde(default)]
    pub log_files: Vec<LogFile>,
}

/// A log file a digest vouches for.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogFile {
    pub s3_object: String,
    pub hash_value: String,
}

/// Public keys, as `aws cloudtrail list-public-keys` prints them.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKeys {
    pub public_key_list: Vec<PublicKey>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKey {
    /// The key, base64 of PKCS#1 DER.
    pub value: String,
    pub fingerprint: String,
}

/// The part of a key from `AWSLogs/` on: how a digest's `s3Object` and a listed key are matched,
/// whatever prefix or local folder holds the copy.
pub fn from_awslogs(key: &str) -> Option<&str> {
    key.find("AWSLogs/").map(|i| &key[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_the_signing_string_are_as_aws_documents_them() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            signing_string("2015-08-17T15:01:31Z", "b/AWSLogs/x.json.gz", "ab", None),
            "2015-08-17T15:01:31Z\nb/AWSLogs/x.json.gz\nab\nnull"
        );
        assert_eq!(
            from_awslogs("p/AWSLogs/1/CloudTrail/x"),
            Some("AWSLogs/1/CloudTrail/x")
        );
    }

    #[test]
    fn the_aws_documentation_digest_parses() {
        let text =
            include_str!("../tests/data/real/awsdocs/aws-cloudtrail-user-guide.digest1.json");
        let d: Digest = serde_json::from_str(text).unwrap();
        assert_eq!(d.log_files.len(), 1);
        assert_eq!(
            d.previous_digest_hash_value.as_deref(),
            Some("97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d")
        );
    }
}
