//! The object operations the table's bookkeeping is built from: JSON objects read and written
//! whole, sorted listings, deletes that tolerate what is already gone, and setting damaged objects
//! aside.
//!
//! Commits ([`super::commit`]), state ([`super::state`]), the lease ([`super::lease`]) and the
//! upgrade ([`super::migrate`]) all use these, so they live here rather than beside [`super::Dest`]:
//! one place says how a store error becomes a [`CommitError`], what a missing object means and
//! how many requests run at once.

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ListResult, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

use super::{CommitError, META_DIR};
use crate::store::{Location, describe};

/// Requests in flight at once for moves, deletes and state reads.
pub(super) const CONCURRENCY: usize = 16;

/// A path under `DEST/_trailpq/`.
pub(super) fn meta_path(loc: &Location, rel: &str) -> Path {
    loc.child(&[META_DIR, rel])
}

/// The time recorded in bookkeeping (journals, lease holders): UTC, to the second.
pub(super) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A store error at `path`, as the run reports it.
pub(super) fn store_error(loc: &Location, path: &Path, e: &object_store::Error) -> CommitError {
    CommitError::Store {
        location: loc.display(path),
        message: describe(e),
    }
}

/// Reads a JSON object; `None` if there is none. An object that does not parse is
/// [`CommitError::Corrupt`], which callers may answer with [`set_aside`].
pub(super) async fn get_json<T: for<'de> Deserialize<'de>>(
    loc: &Location,
    path: &Path,
) -> Result<Option<T>, CommitError> {
    match loc.get_bytes(path).await {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            CommitError::Corrupt(format!(
                "{} is not valid: {e}; if you did not edit it, please report this",
                loc.display(path)
            ))
        }),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(store_error(loc, path, &e)),
    }
}

/// Writes a JSON object whole (a reader sees the old one or the new one, never a part).
pub(super) async fn put_json<T: Serialize>(
    loc: &Location,
    path: &Path,
    value: &T,
) -> Result<(), CommitError> {
    let bytes = serde_json::to_vec(value).expect("bookkeeping serializes");
    loc.store
        .put(path, PutPayload::from(Bytes::from(bytes)))
        .await
        .map(|_| ())
        .map_err(|e| store_error(loc, path, &e))
}

/// Moves a bookkeeping object that cannot be read out of the way, into `_trailpq/damaged/`, so it
/// cannot make every later run fail. Returns the warning to give.
pub(super) async fn set_aside(
    loc: &Location,
    path: &Path,
    why: &str,
) -> Result<String, CommitError> {
    let rel = loc.relative(path);
    let rel = rel.strip_prefix(&format!("{META_DIR}/")).unwrap_or(&rel);
    let aside = meta_path(loc, &format!("damaged/{rel}"));
    loc.store
        .rename(path, &aside)
        .await
        .map_err(|e| store_error(loc, path, &e))?;
    Ok(format!("{why}; it was moved to {}", loc.display(&aside)))
}

/// Every object under a prefix, sorted (bookkeeping names sort by run and checkpoint).
pub(super) async fn list(loc: &Location, prefix: &Path) -> Result<Vec<Path>, CommitError> {
    let mut paths: Vec<Path> = loc
        .store
        .list(Some(prefix))
        .map_ok(|m| m.location)
        .try_collect()
        .await
        .map_err(|e| store_error(loc, prefix, &e))?;
    paths.sort();
    Ok(paths)
}

/// The objects right in a folder (not in its subfolders), sorted. The lease, journal and state
/// folders are flat; a delimiter listing asks for that folder only, which a store answering from
/// a disk (a local DEST, s3s-fs) reads alone instead of walking the subtree, and s3s-fs the
/// whole bucket.
pub(super) async fn files_in(loc: &Location, folder: &Path) -> Result<Vec<Path>, CommitError> {
    let mut paths: Vec<Path> = one_level(loc, folder)
        .await?
        .objects
        .into_iter()
        .map(|m| m.location)
        .collect();
    paths.sort();
    Ok(paths)
}

/// The names of the folders right under a prefix.
pub(super) async fn subfolders(loc: &Location, prefix: &Path) -> Result<Vec<String>, CommitError> {
    let mut names: Vec<String> = one_level(loc, prefix)
        .await?
        .common_prefixes
        .iter()
        .filter_map(|p| p.filename().map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}

/// One level of a folder: its objects and its subfolders.
async fn one_level(loc: &Location, folder: &Path) -> Result<ListResult, CommitError> {
    loc.store
        .list_with_delimiter(Some(folder))
        .await
        .map_err(|e| store_error(loc, folder, &e))
}

/// Deletes an object; one already gone is not an error, so every cleanup is safe to repeat.
pub(super) async fn delete(loc: &Location, path: &Path) -> Result<(), CommitError> {
    match loc.store.delete(path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(store_error(loc, path, &e)),
    }
}

/// Deletes every object under a prefix (and, on a local disk, the emptied folders).
pub(super) async fn delete_all(loc: &Location, prefix: &Path) -> Result<usize, CommitError> {
    let paths = list(loc, prefix).await?;
    let deleted = paths.len();
    futures::stream::iter(paths)
        .map(|path| async move { delete(loc, &path).await })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    tidy_local(loc, prefix);
    Ok(deleted)
}

/// On a local disk, moving or deleting files leaves empty folders behind: removes the folder of
/// `prefix` and its parent, if that is then empty.
pub(super) fn tidy_local(loc: &Location, prefix: &Path) {
    if loc.is_local() {
        let dir = std::path::PathBuf::from(loc.display(prefix));
        let _ = std::fs::remove_dir_all(&dir);
        if let Some(parent) = dir.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
}
