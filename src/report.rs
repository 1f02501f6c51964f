//! The run report: counts that reconcile, and every skipped or quarantined file or record with
//! its reason.
//!
//! `files_found = files_unchanged + files_read`;
//! `files_read = files_converted + files_uncommitted + files_skipped + len(files_quarantined)
//! + len(files_unreadable)`;
//! `records_read = records_written + records_uncommitted + len(records_quarantined)
//! + records_quarantined_unlisted`.
//!
//! Converted files count as `files_converted` (and their records as `records_written`) once the
//! checkpoint holding them is committed; when a run fails, those of the checkpoint in flight are
//! `files_uncommitted` and are converted again by the next run.

use serde::Serialize;

/// Lists longer than this are cut; the count of what was left out is kept.
pub const MAX_LISTED: usize = 100_000;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileIssue {
    pub source: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RecordIssue {
    pub source: String,
    pub index: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Output {
    pub path: String,
    pub rows: usize,
    pub bytes: usize,
}

/// What the run found to convert: the plan of a dry run, and what a real run set out to read.
#[derive(Debug, Default, Serialize)]
pub struct Plan {
    /// Files to read, and their bytes (compressed where they are).
    pub files: u64,
    pub bytes: u64,
    /// Accounts, regions and delivery days of the files to read that are in the CloudTrail layout.
    pub accounts: std::collections::BTreeSet<String>,
    pub regions: std::collections::BTreeSet<String>,
    pub days: u64,
    pub first_day: Option<String>,
    pub last_day: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub run_id: String,
    pub trailpq_version: String,
    pub sources: Vec<String>,
    pub dest: String,
    pub partition_by: Vec<String>,
    /// `hive` or `delta` (empty in a dry run).
    pub table_format: String,
    /// Only planned, nothing written (`--dry-run`).
    pub dry_run: bool,
    /// Files listed under the sources (this shard's, when sharded).
    pub files_found: u64,
    /// Files listed that belong to other shards (`--shard`).
    pub files_other_shards: u64,
    /// Listing requests made, and the object keys they returned.
    pub list_requests: u64,
    pub keys_listed: u64,
    /// Files converted by an earlier run into the same DEST, and not changed since: not read again.
    pub files_unchanged: u64,
    /// Files converted by an earlier run that changed since (size or ETag): converted again,
    /// and their earlier rows remain in the table.
    pub files_changed: Vec<String>,
    pub files_read: u64,
    /// Files converted and committed.
    pub files_converted: u64,
    /// Files converted in a checkpoint that was not committed because the run failed.
    pub files_uncommitted: u64,
    pub files_skipped: u64,
    /// Files whose content is not usable: none of their records are written.
    pub files_quarantined: Vec<FileIssue>,
    /// Files the store would not give (timeouts, server errors, permissions): read again by the
    /// next run.
    pub files_unreadable: Vec<FileIssue>,
    /// Why each skipped file was skipped.
    pub skipped: Vec<FileIssue>,
    pub records_read: u64,
    /// Records committed to the table.
    pub records_written: u64,
    /// Records of `files_uncommitted`.
    pub records_uncommitted: u64,
    pub records_quarantined: Vec<RecordIssue>,
    /// Quarantined records beyond the listed ones (the list is capped at 100,000).
    pub records_quarantined_unlisted: u64,
    /// What the run set out to read.
    pub plan: Plan,
    /// Checkpoints committed by this run.
    pub checkpoints: u32,
    /// With `--verify`: log files whose digest vouched for them (the others are quarantined).
    pub files_verified: u64,
    pub outputs: Vec<Output>,
    pub output_bytes: u64,
    /// Bytes read from the sources (compressed where they are).
    pub bytes_read: u64,
    /// Bytes of JSON parsed (after decompression).
    pub json_bytes: u64,
    /// What recovery or the run noticed on the way.
    pub notes: Vec<String>,
    /// What needs attention: files lost outside trailpq, a destination that cannot be locked.
    pub warnings: Vec<String>,
    /// Sources whose earlier commit was undone because its files were lost; converted again.
    pub sources_forgotten: u64,
    pub elapsed_seconds: f64,
    /// Why the run failed, when it did; what it committed before stays committed.
    pub error: Option<String>,
}

impl Report {
    /// A file was converted, with `written` records and `json_bytes` of JSON; it counts as
    /// converted once its checkpoint is committed ([`Report::committed`]).
    pub fn converted(&mut self, written: u64, json_bytes: u64) {
        self.files_read += 1;
        self.files_uncommitted += 1;
        self.records_read += written;
        self.records_uncommitted += written;
        self.json_bytes += json_bytes;
    }

    /// A checkpoint was committed: the files converted since the last one are in the table.
    pub fn committed(&mut self, outputs: impl IntoIterator<Item = Output>) {
        self.checkpoints += 1;
        self.files_converted += std::mem::take(&mut self.files_uncommitted);
        self.records_written += std::mem::take(&mut self.records_uncommitted);
        for output in outputs {
            self.output_bytes += output.bytes as u64;
            self.outputs.push(output);
        }
    }

    /// A file converted before has changed since; it is read again.
    pub fn changed(&mut self, source: &str) {
        if self.files_changed.len() < MAX_LISTED {
            self.files_changed.push(source.to_string());
        }
    }

    /// The store would not give a file; the next run reads it again.
    pub fn unreadable(&mut self, source: &str, reason: String) {
        self.files_read += 1;
        self.files_unreadable.push(FileIssue {
            source: source.to_string(),
            reason,
        });
    }

    pub fn skip(&mut self, source: &str, reason: String) {
        self.files_read += 1;
        self.files_skipped += 1;
        if self.skipped.len() < MAX_LISTED {
            self.skipped.push(FileIssue {
                source: source.to_string(),
                reason,
            });
        }
    }

    pub fn quarantine_file(&mut self, source: &str, reason: String) {
        self.files_read += 1;
        self.files_quarantined.push(FileIssue {
            source: source.to_string(),
            reason,
        });
    }

    pub fn quarantine_record(&mut self, source: &str, index: u64, reason: String) {
        self.records_read += 1;
        if self.records_quarantined.len() < MAX_LISTED {
            self.records_quarantined.push(RecordIssue {
                source: source.to_string(),
                index,
                reason,
            });
        } else {
            self.records_quarantined_unlisted += 1;
        }
    }

    /// Puts the lists in a stable order (files finish in any order on many threads).
    pub fn sort(&mut self) {
        self.files_quarantined
            .sort_by(|a, b| a.source.cmp(&b.source));
        self.files_unreadable
            .sort_by(|a, b| a.source.cmp(&b.source));
        self.skipped.sort_by(|a, b| a.source.cmp(&b.source));
        self.files_changed.sort();
        self.records_quarantined
            .sort_by(|a, b| (&a.source, a.index).cmp(&(&b.source, b.index)));
        self.outputs.sort_by(|a, b| a.path.cmp(&b.path));
    }

    pub fn records_quarantined_count(&self) -> u64 {
        self.records_quarantined.len() as u64 + self.records_quarantined_unlisted
    }

    /// 0 when everything was converted; 4 when the store would not give some files (the next
    /// run reads them again); 3 when something was quarantined. A failed run exits 1 or 2.
    pub fn exit_code(&self) -> u8 {
        if !self.files_unreadable.is_empty() {
            4
        } else if self.files_quarantined.is_empty() && self.records_quarantined_count() == 0 {
            0
        } else {
            3
        }
    }

    /// What a dry run found: the plan, for people.
    pub fn plan_summary(&self) -> String {
        let plan = &self.plan;
        let list = |items: &std::collections::BTreeSet<String>| {
            let shown: Vec<&str> = items.iter().take(8).map(String::as_str).collect();
            let more = items.len().saturating_sub(shown.len());
            match more {
                0 => shown.join(", "),
                _ => format!("{}, … ({more} more)", shown.join(", ")),
            }
        };
        let mut out = format!(
            "dry run: would convert {} file{} ({:.1} MB) into {}\n",
            thousands(plan.files),
            plural(plan.files),
            plan.bytes as f64 / 1e6,
            self.dest
        );
        if !plan.accounts.is_empty() {
            out.push_str(&format!(
                "  accounts: {} ({})\n  regions: {} ({})\n",
                plan.accounts.len(),
                list(&plan.accounts),
                plan.regions.len(),
                list(&plan.regions)
            ));
        }
        if let (Some(first), Some(last)) = (&plan.first_day, &plan.last_day) {
            out.push_str(&format!(
                "  delivery days: {} ({first} to {last})\n",
                plan.days
            ));
        }
        out.push_str(&format!(
            "  already converted: {} file{}; skipped: {}; other shards: {}\n",
            thousands(self.files_unchanged),
            plural(self.files_unchanged),
            thousands(self.files_skipped),
            thousands(self.files_other_shards)
        ));
        out.push_str(&format!(
            "  listing: {} request{}, {} key{}\n",
            thousands(self.list_requests),
            plural(self.list_requests),
            thousands(self.keys_listed),
            plural(self.keys_listed)
        ));
        out
    }

    /// The human summary printed at the end of a run: the outcome, then what else happened.
    pub fn summary(&self) -> String {
        let mut out = self.outcome();
        out.push_str(&self.details());
        out.push_str(&self.problems());
        out
    }

    /// The first line: failed, nothing new, or what was converted and how fast.
    fn outcome(&self) -> String {
        let secs = self.elapsed_seconds.max(1e-9);
        if self.error.is_none() && self.files_converted == 0 {
            return format!(
                "trailpq: no new CloudTrail logs among {} file{}\n",
                self.files_found,
                plural(self.files_found)
            );
        }
        if self.error.is_none() {
            return format!(
                "trailpq: converted {} of {} file{} ({} record{}) in {:.1}s: {:.1} MB/s of JSON, {} records/s\n",
                self.files_converted,
                self.files_found,
                plural(self.files_found),
                thousands(self.records_written),
                plural(self.records_written),
                self.elapsed_seconds,
                self.json_bytes as f64 / 1e6 / secs,
                thousands((self.records_read as f64 / secs) as u64),
            );
        }
        let mut out = format!(
            "trailpq: the run failed after reading {} of {} file{}; {} checkpoint{} committed ({} file{}, {} record{})\n",
            self.files_read,
            self.files_found,
            plural(self.files_found),
            self.checkpoints,
            plural(self.checkpoints.into()),
            self.files_converted,
            plural(self.files_converted),
            thousands(self.records_written),
            plural(self.records_written),
        );
        if self.files_uncommitted > 0 {
            out.push_str(&format!(
                "  {} converted file{} of the checkpoint in flight were not committed; the next run converts them again\n",
                self.files_uncommitted,
                plural(self.files_uncommitted)
            ));
        }
        out
    }

    /// Output, listing, files not read again, changed or skipped, and notes.
    fn details(&self) -> String {
        let mut out = String::new();
        if !self.outputs.is_empty() {
            out.push_str(&format!(
                "  wrote {} Parquet file{} ({:.1} MB) to {}\n",
                self.outputs.len(),
                plural(self.outputs.len() as u64),
                self.output_bytes as f64 / 1e6,
                self.dest
            ));
        }
        if self.list_requests > 0 {
            out.push_str(&format!(
                "  listed {} key{} in {} request{}\n",
                thousands(self.keys_listed),
                plural(self.keys_listed),
                thousands(self.list_requests),
                plural(self.list_requests)
            ));
        }
        if self.files_unchanged > 0 {
            out.push_str(&format!(
                "  {} file{} already converted into this destination were not read again\n",
                self.files_unchanged,
                plural(self.files_unchanged)
            ));
        }
        if !self.files_changed.is_empty() {
            let n = self.files_changed.len() as u64;
            out.push_str(&format!(
                "  {n} file{} changed since an earlier run converted {}; converted again (the earlier rows remain), e.g. {}\n",
                plural(n),
                if n == 1 { "it" } else { "them" },
                self.files_changed[0]
            ));
        }
        if self.files_skipped > 0 {
            out.push_str(&format!(
                "  skipped {} file{}: {}\n",
                self.files_skipped,
                plural(self.files_skipped),
                self.skip_reasons()
            ));
        }
        if self.files_verified > 0 {
            out.push_str(&format!(
                "  {} log file{} vouched for by their digests (--verify)\n",
                self.files_verified,
                plural(self.files_verified)
            ));
        }
        for note in &self.notes {
            out.push_str(&format!("  note: {note}\n"));
        }
        out
    }

    /// Why files were skipped, with how many for each reason.
    fn skip_reasons(&self) -> String {
        let mut reasons: Vec<(&str, u64)> = Vec::new();
        for issue in &self.skipped {
            match reasons.iter_mut().find(|(r, _)| *r == issue.reason) {
                Some((_, n)) => *n += 1,
                None => reasons.push((&issue.reason, 1)),
            }
        }
        let reasons: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
        reasons.join("; ")
    }

    /// Files the store would not give, and what was quarantined, the first few of each.
    fn problems(&self) -> String {
        const SHOWN: usize = 10;
        const MORE: &str = "    … the full list is in the report (--report FILE)\n";
        let mut out = String::new();
        if !self.files_unreadable.is_empty() {
            let n = self.files_unreadable.len() as u64;
            out.push_str(&format!(
                "  UNREADABLE {n} file{} (the store did not give them; the next run reads them again):\n",
                plural(n)
            ));
            for issue in self.files_unreadable.iter().take(SHOWN) {
                out.push_str(&format!("    {}: {}\n", issue.source, issue.reason));
            }
            if n as usize > SHOWN {
                out.push_str(MORE);
            }
        }
        let bad_records = self.records_quarantined_count();
        if !self.files_quarantined.is_empty() || bad_records > 0 {
            out.push_str(&format!(
                "  QUARANTINED {} file{} and {} record{} (not written):\n",
                self.files_quarantined.len(),
                plural(self.files_quarantined.len() as u64),
                bad_records,
                plural(bad_records)
            ));
            for issue in self.files_quarantined.iter().take(SHOWN) {
                out.push_str(&format!("    {}: {}\n", issue.source, issue.reason));
            }
            for issue in self.records_quarantined.iter().take(SHOWN) {
                out.push_str(&format!(
                    "    {} record {}: {}\n",
                    issue.source, issue.index, issue.reason
                ));
            }
            if self.files_quarantined.len() > SHOWN || bad_records as usize > SHOWN {
                out.push_str(MORE);
            }
        }
        out
    }
}

pub(crate) fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// 1234567 → "1,234,567"
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_reconcile_and_set_the_exit_code() {
        let mut r = Report::default();
        assert_eq!(r.exit_code(), 0);
        r.skip("README.md", "not a CloudTrail log (not JSON)".into());
        assert_eq!(r.exit_code(), 0);
        r.quarantine_record("f.json", 3, "a number, not a record object".into());
        assert_eq!((r.records_read, r.exit_code()), (1, 3));
        assert!(r.summary().contains("f.json record 3: a number"));
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
    }
}
