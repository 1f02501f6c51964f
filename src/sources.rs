//! What a source key says about itself: where it sits in the CloudTrail delivery layout.
//!
//! AWS delivers a trail's logs to
//! `[prefix/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail[-Insight|-Digest]/REGION/YYYY/MM/DD/NAME`.
//! From a key in that layout trailpq knows the account, region and delivery day without reading
//! the file. What was converted is recorded per such folder (its [`scope`]), so a run reads only
//! the records of the folders it lists, however long the destination's history.

use std::hash::Hasher;

use chrono::NaiveDate;

/// The kind of a CloudTrail delivery folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `CloudTrail/`: the logs.
    Logs,
    /// `CloudTrail-Insight/`: Insights events.
    Insight,
    /// `CloudTrail-Digest/`: digest files (hashes of the logs, no records).
    Digest,
}

impl Kind {
    /// The folder name.
    pub fn dir(self) -> &'static str {
        match self {
            Kind::Logs => "CloudTrail",
            Kind::Insight => "CloudTrail-Insight",
            Kind::Digest => "CloudTrail-Digest",
        }
    }

    /// The kind of a folder name (`CloudTrail`, …).
    pub fn parse(dir: &str) -> Option<Self> {
        [Kind::Logs, Kind::Insight, Kind::Digest]
            .into_iter()
            .find(|k| k.dir() == dir)
    }
}

/// A key in the CloudTrail delivery layout, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailKey<'a> {
    /// Everything up to and including `AWSLogs` (and the organisation folder, if any).
    pub root: &'a str,
    /// The organisation id (`o-…`) of an organisation trail.
    pub org: Option<&'a str>,
    pub account: &'a str,
    pub kind: Kind,
    pub region: &'a str,
    /// The delivery day (UTC) of the folder: when AWS wrote the file, not when events happened.
    pub day: NaiveDate,
    /// The file name.
    pub name: &'a str,
}

impl<'a> TrailKey<'a> {
    /// Takes a key (path or URL) apart, if it is in the delivery layout.
    pub fn parse(key: &'a str) -> Option<Self> {
        let parts: Vec<&str> = key.split('/').collect();
        let n = parts.len();
        // …/AWSLogs/[o-ORG/]ACCOUNT/KIND/REGION/YYYY/MM/DD/NAME
        if n < 8 {
            return None;
        }
        let (aws_logs, org) = if parts[n - 8] == "AWSLogs" {
            (n - 8, None)
        } else if n >= 9 && parts[n - 9] == "AWSLogs" && parts[n - 8].starts_with("o-") {
            (n - 9, Some(parts[n - 8]))
        } else {
            return None;
        };
        let [account, kind, region, year, month, day, name] = parts[n - 7..] else {
            return None;
        };
        let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
        if !is_account(account)
            || !is_region(region)
            || !digits(year, 4)
            || !digits(month, 2)
            || !digits(day, 2)
            || name.is_empty()
        {
            return None;
        }
        let day =
            NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)?;
        let root_parts = aws_logs + 1 + usize::from(org.is_some());
        let root_len = parts[..root_parts]
            .iter()
            .map(|p| p.len() + 1)
            .sum::<usize>()
            - 1;
        Some(TrailKey {
            root: &key[..root_len],
            org,
            account,
            kind: Kind::parse(kind)?,
            region,
            day,
            name,
        })
    }
}

/// Whether a name is an AWS account id: twelve digits.
pub fn is_account(name: &str) -> bool {
    name.len() == 12 && name.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a name can be an AWS region (`us-east-1`): lower-case letters, digits and `-`.
pub fn is_region(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The folder of the converted-sources state a source key's record belongs in: one per
/// (trail root, account, kind, region, delivery day) for keys in the delivery layout, and one per
/// parent folder for any other key. A `/`-separated path of safe names.
pub fn scope(key: &str) -> String {
    match TrailKey::parse(key) {
        Some(t) => format!(
            "{}/{}",
            folder_key(t.root, t.account, t.kind, t.region),
            t.day.format("%Y-%m-%d")
        ),
        None => {
            let parent = key.rsplit_once('/').map_or("", |(dir, _)| dir);
            format!("dir/{:016x}", fnv64(parent))
        }
    }
}

/// A delivery-folder scope taken apart: its region folder (`aws/<root>/<account>/<kind>/<region>`,
/// the key of the folder's watermarks) and its day. `None` for scopes of plain folders.
pub fn split_scope(scope: &str) -> Option<(&str, NaiveDate)> {
    let rest = scope.strip_prefix("aws/")?;
    let (folder, day) = scope.rsplit_once('/')?;
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    (rest.split('/').count() == 5).then_some((folder, day))
}

/// The scope-style key of a region's delivery folder: `aws/<root hash>/<account>/<kind>/<region>`.
pub fn folder_key(root: &str, account: &str, kind: Kind, region: &str) -> String {
    format!("aws/{:016x}/{account}/{}/{region}", fnv64(root), kind.dir())
}

/// FNV-1a, 64 bits: a stable hash (the same value in every version), for short, safe names.
pub fn fnv64(text: &str) -> u64 {
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(text.as_bytes());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_the_delivery_layout_are_taken_apart() {
        let key = "s3://b/pre/AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T0000Z_x.json.gz";
        let t = TrailKey::parse(key).unwrap();
        assert_eq!(t.root, "s3://b/pre/AWSLogs/o-abc123");
        assert_eq!(t.org, Some("o-abc123"));
        assert_eq!(
            (t.account, t.kind, t.region),
            ("111122223333", Kind::Logs, "us-east-1")
        );
        assert_eq!(t.day, NaiveDate::from_ymd_opt(2024, 5, 1).unwrap());
        assert!(t.name.ends_with(".json.gz"));

        let local = "/data/AWSLogs/012345678901/CloudTrail-Insight/eu-west-2/2023/12/31/f.json";
        let t = TrailKey::parse(local).unwrap();
        assert_eq!(
            (t.root, t.org, t.kind),
            ("/data/AWSLogs", None, Kind::Insight)
        );
        let digest = "AWSLogs/012345678901/CloudTrail-Digest/eu-west-2/2023/12/31/d.json.gz";
        assert_eq!(TrailKey::parse(digest).unwrap().kind, Kind::Digest);
        assert_eq!(TrailKey::parse(digest).unwrap().root, "AWSLogs");

        for other in [
            "/data/x.json",
            "/data/AWSLogs/012345678901/CloudTrail/us-east-1/2024/05/01/",
            "/data/AWSLogs/12345/CloudTrail/us-east-1/2024/05/01/f.json",
            "/data/AWSLogs/012345678901/CloudTrail/us-east-1/2024/02/30/f.json",
            "/data/AWSLogs/012345678901/Other/us-east-1/2024/05/01/f.json",
            "/data/AWSLogs/012345678901/CloudTrail/US_EAST/2024/05/01/f.json",
        ] {
            assert_eq!(TrailKey::parse(other), None, "{other}");
        }
    }

    #[test]
    fn scopes_follow_the_delivery_folders() {
        let a = "s3://b/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/a.json.gz";
        let b = "s3://b/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/b.json.gz";
        let next_day = "s3://b/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/02/a.json.gz";
        let other_bucket = "s3://c/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/a.json.gz";
        assert_eq!(scope(a), scope(b));
        assert_ne!(scope(a), scope(next_day));
        assert_ne!(scope(a), scope(other_bucket));
        assert!(scope(a).starts_with("aws/"));
        assert!(scope(a).ends_with("/111122223333/CloudTrail/us-east-1/2024-05-01"));
        let scope_a = scope(a);
        let (folder, day) = split_scope(&scope_a).unwrap();
        assert_eq!(day, NaiveDate::from_ymd_opt(2024, 5, 1).unwrap());
        assert_eq!(
            folder,
            folder_key("s3://b/AWSLogs", "111122223333", Kind::Logs, "us-east-1")
        );
        assert_eq!(split_scope(&scope("/in/a.json")), None);
        // Other keys: one scope per folder.
        assert_eq!(scope("/in/a.json"), scope("/in/b.json"));
        assert_ne!(scope("/in/a.json"), scope("/in/sub/a.json"));
        assert!(scope("/in/a.json").starts_with("dir/"));
        // Stable across versions: the state on disk depends on it.
        assert_eq!(fnv64(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv64("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
