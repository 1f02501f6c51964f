//! Memory for queries: the limit (`--memory-limit`, or a quarter of the machine), and the rules
//! under which a query that DataFusion can run by spilling succeeds on every run, whatever the
//! interleaving of its partitions. `query`, the shell, `export` and `compact` all run under them.
//!
//! Why. With DataFusion's `FairSpillPool`, a large sort over two partitions failed about one run
//! in four ("Failed to allocate additional … for ExternalSorterMerge[0]"): a sorter about to spill
//! frees the memory it set aside for merging, merges its sorted batches through a reservation
//! that cannot spill, and asks for that memory again, batch by batch; meanwhile the other
//! partition's sorter, which the fair pool checks only against its share and never against what
//! is free, may have taken it. Measured on a million generated events (`ORDER BY
//! request_parameters`, and a window by user): the fair pool failed 5 runs in 6 at 64 MiB and 1
//! to 4 in 8 at 128 MiB; under the rules below, none in 20 at 64, 128 and 256 MiB (the test runs
//! forty at 128 MiB). Below that a query may not fit at all, and then it fails on every run with
//! the one-line message (at 32 MiB the final merge of the partitions' outputs does not fit).
//!
//! The rules:
//! - A sorter that spills concatenates what it holds and sorts it in place
//!   (`sort_in_place_threshold_bytes` = the limit), so it needs no merge reservation to spill: all
//!   its memory is its own and can spill.
//! - Consumers that can spill share three quarters of the limit equally ([`HEADROOM_DIVISOR`]);
//!   past its share, a consumer spills, as it would anyway.
//! - Consumers that cannot spill (the merge of a sorter's spill files, the merge of the partitions'
//!   outputs, hash tables) share what the spillers leave, equally, so that one merge, which takes
//!   as many spill files as its reservation can grow to, does not starve the others (it merges
//!   fewer files at a time instead); and what such a consumer gives back stays set aside for it
//!   until it ends, so that memory freed to merge is there when it is asked for again.

use std::sync::Arc;

use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::execution::memory_pool::{
    MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

/// The part of the limit kept from spilling consumers: a quarter.
const HEADROOM_DIVISOR: usize = 4;
/// The smallest default limit.
const MIN_DEFAULT: usize = 256 << 20;

/// The default limit: a quarter of the memory this process may use (the machine's, or its
/// container's cgroup limit where one is set), at least 256 MiB.
pub fn default_limit() -> usize {
    (machine_memory().unwrap_or(4 << 30) / 4).max(MIN_DEFAULT)
}

/// The memory this process may use: the machine's physical memory, or less where a cgroup (a
/// container: Kubernetes, ECS, Docker) limits it.
pub fn machine_memory() -> Option<usize> {
    // SAFETY: sysconf has no preconditions.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let physical = (pages > 0 && size > 0).then(|| pages as usize * size as usize);
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|path| {
        std::fs::read_to_string(path)
            .ok()?
            .trim()
            .parse::<usize>()
            .ok()
    });
    match (physical, cgroup) {
        (Some(p), Some(c)) => Some(p.min(c)),
        (p, c) => p.or(c),
    }
}

/// Settings of a session that depend on its memory limit.
pub fn configure(config: SessionConfig, limit: usize) -> SessionConfig {
    config
        // A sorter that spills concatenates what it holds and sorts it in place, instead of
        // merging its sorted batches through a reservation that cannot spill and may be refused
        // (see the module's documentation): all its memory is its own, spillable.
        .set_usize("datafusion.execution.sort_in_place_threshold_bytes", limit)
        // Room for each spilling sort to merge what it spilled: CloudTrail rows are wide (long
        // JSON strings), and DataFusion's 10 MiB default fails merges of such rows.
        .set_usize(
            "datafusion.execution.sort_spill_reservation_bytes",
            limit / 16,
        )
        .set_str("datafusion.execution.spill_compression", "lz4_frame")
}

/// A runtime whose queries stay within `limit` bytes, spilling to disk beyond.
pub fn runtime(limit: usize) -> DfResult<Arc<RuntimeEnv>> {
    RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(SpillFirstPool::new(limit)))
        .build_arc()
}

/// The limit of a session's pool.
pub fn limit_of(ctx: &SessionContext) -> Option<usize> {
    match ctx.runtime_env().memory_pool.memory_limit() {
        MemoryLimit::Finite(limit) => Some(limit),
        _ => None,
    }
}

/// Gives a session a new limit, keeping its tables, views, settings and object stores. Also puts
/// back this module's pool after `SET datafusion.runtime.memory_limit`, which DataFusion
/// answers with a pool of its own (first come, first served).
pub fn set_limit(ctx: &SessionContext, limit: usize) -> DfResult<()> {
    let state = ctx.state_ref();
    let mut state = state.write();
    let runtime = RuntimeEnvBuilder::from_runtime_env(state.runtime_env())
        .with_memory_pool(Arc::new(SpillFirstPool::new(limit)))
        .build_arc()?;
    let mut next = SessionStateBuilder::from(state.clone())
        .with_runtime_env(runtime)
        .build();
    *next.config_mut() = configure(next.config().clone(), limit);
    *state = next;
    Ok(())
}

/// After a statement: if it replaced the pool (`SET`/`RESET datafusion.runtime.memory_limit`),
/// this module's pool again, with the limit asked for (the default after a `RESET`).
pub fn keep_pool(ctx: &SessionContext) -> DfResult<()> {
    let pool = ctx.runtime_env().memory_pool.clone();
    if pool.name() == SpillFirstPool::NAME {
        return Ok(());
    }
    let limit = match pool.memory_limit() {
        MemoryLimit::Finite(limit) => limit,
        _ => default_limit(),
    };
    set_limit(ctx, limit)
}

/// The pool: see the module's documentation.
#[derive(Debug)]
pub struct SpillFirstPool {
    limit: usize,
    state: std::sync::Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    spillable: usize,
    /// Registered consumers that can spill.
    spillers: usize,
    /// Consumers that cannot spill, by id: what each uses, and what is set aside for it.
    keepers: std::collections::HashMap<usize, Kept>,
    /// Set aside for consumers that cannot spill, in all.
    unspillable: usize,
}

/// A consumer that cannot spill: the bytes it gave back stay set aside for it until it ends (a
/// sorter frees its merge reservation to merge and asks for it again, and must find it there).
#[derive(Debug, Default, Clone, Copy)]
struct Kept {
    used: usize,
    held: usize,
}

impl SpillFirstPool {
    const NAME: &str = "trailpq";

    pub fn new(limit: usize) -> Self {
        SpillFirstPool {
            limit,
            state: std::sync::Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What spilling consumers may use between them.
    fn spillable_limit(&self) -> usize {
        self.limit - self.limit / HEADROOM_DIVISOR
    }
}

impl State {
    fn used(&self) -> usize {
        self.spillable + self.unspillable
    }

    /// New bytes a consumer that cannot spill needs from the pool to use `additional` more.
    fn needs(&self, id: usize, additional: usize) -> (Kept, usize) {
        let kept = self.keepers.get(&id).copied().unwrap_or_default();
        let used = kept.used + additional;
        (kept, used.saturating_sub(kept.held))
    }

    fn grow_unspillable(&mut self, id: usize, additional: usize) {
        let (_, new) = self.needs(id, additional);
        let kept = self.keepers.entry(id).or_default();
        kept.used += additional;
        kept.held += new;
        self.unspillable += new;
    }
}

impl std::fmt::Display for SpillFirstPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}(limit: {} bytes)", Self::NAME, self.limit)
    }
}

impl MemoryPool for SpillFirstPool {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn register(&self, consumer: &MemoryConsumer) {
        let mut state = self.state();
        match consumer.can_spill() {
            true => state.spillers += 1,
            false => {
                state.keepers.entry(consumer.id()).or_default();
            }
        }
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        let mut state = self.state();
        match consumer.can_spill() {
            true => state.spillers = state.spillers.saturating_sub(1),
            false => {
                if let Some(kept) = state.keepers.remove(&consumer.id()) {
                    state.unspillable = state.unspillable.saturating_sub(kept.held);
                }
            }
        }
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        let mut state = self.state();
        match reservation.consumer().can_spill() {
            true => state.spillable += additional,
            false => state.grow_unspillable(reservation.consumer().id(), additional),
        }
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        let mut state = self.state();
        match reservation.consumer().can_spill() {
            true => state.spillable = state.spillable.saturating_sub(shrink),
            false => {
                if let Some(kept) = state.keepers.get_mut(&reservation.consumer().id()) {
                    kept.used = kept.used.saturating_sub(shrink);
                }
            }
        }
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> DfResult<()> {
        let mut state = self.state();
        let consumer = reservation.consumer();
        let free = self.limit.saturating_sub(state.used());
        let refused = match consumer.can_spill() {
            // Each spiller gets an equal share of what spillers may use.
            true => {
                let share = self.spillable_limit() / state.spillers.max(1);
                reservation.size() + additional > share
            }
            // Each consumer that cannot spill gets an equal share of what spillers leave, so
            // that one (the merge of a sort's spill files, which takes all it can get) does not
            // starve the others (the merge of the partitions' sorted outputs).
            false => {
                let (kept, new) = state.needs(consumer.id(), additional);
                let keepers = state.keepers.len().max(1);
                let share = self.limit.saturating_sub(state.spillable) / keepers;
                new > free || (new > 0 && kept.held + new > share)
            }
        };
        if refused {
            return Err(DataFusionError::ResourcesExhausted(format!(
                "{} cannot have {additional} bytes more within the memory limit ({} bytes)",
                consumer.name(),
                self.limit
            )));
        }
        match consumer.can_spill() {
            true => state.spillable += additional,
            false => state.grow_unspillable(consumer.id(), additional),
        }
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.state().used()
    }

    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(self.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spillers_share_three_quarters_and_the_others_share_what_is_left() {
        let pool: Arc<dyn MemoryPool> = Arc::new(SpillFirstPool::new(1000));
        let consumer = |name: &str, spill: bool| {
            MemoryConsumer::new(name)
                .with_can_spill(spill)
                .register(&pool)
        };
        let (sorter_a, sorter_b) = (consumer("sorter a", true), consumer("sorter b", true));
        let (merge, outputs) = (consumer("merge", false), consumer("outputs", false));
        // Two spillers share 750 bytes.
        sorter_a.try_grow(375).unwrap();
        assert!(sorter_a.try_grow(1).is_err(), "past its share");
        sorter_b.try_grow(225).unwrap();
        // The two others share the 400 left: 200 each.
        merge.try_grow(150).unwrap();
        // What the merge gives back stays set aside for it.
        merge.shrink(150);
        assert_eq!(pool.reserved(), 750);
        outputs.try_grow(200).unwrap();
        assert!(outputs.try_grow(10).is_err(), "past its share");
        // Only 50 bytes are free, but the merge finds its 150 again.
        merge.try_grow(150).unwrap();
        let error = merge.try_grow(60).unwrap_err();
        assert!(
            matches!(error, DataFusionError::ResourcesExhausted(_)),
            "{error}"
        );
        drop(merge);
        assert_eq!(
            pool.reserved(),
            800,
            "a consumer's memory goes when it ends"
        );
    }

    #[test]
    fn the_default_is_a_bounded_fraction_of_the_machine() {
        let machine = machine_memory().expect("this machine's memory");
        let limit = default_limit();
        assert!(
            limit <= machine.max(MIN_DEFAULT * 4) / 4,
            "{limit} of {machine}"
        );
        assert!(limit >= MIN_DEFAULT);
    }
}
