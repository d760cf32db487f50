//! `LocalGroup`: the ranks of a job as threads of one process. It has the semantics of
//! the MPI group (collectives matched by call order, reduction in rank order, a bounded
//! wait, an error when a rank left) with no system library, so the data-parallel code
//! and `fit(...distributed)` are tested by `cargo test` on any machine.

use super::group::{ProcessGroup, ReduceOp, Work};
use crate::error::{bail, Error, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// One collective: each rank's contribution, and how many ranks have read the result.
struct Slot {
    parts: Vec<Option<Vec<u8>>>,
    read: usize,
}

#[derive(Default)]
struct State {
    slots: HashMap<u64, Slot>,
    /// Ranks that returned or failed, with why: a collective waiting for one fails.
    gone: HashMap<usize, String>,
}

struct Shared {
    world: usize,
    timeout: Duration,
    state: Mutex<State>,
    changed: Condvar,
}

/// One rank's handle on an in-process group. Made by [`LocalGroup::run`].
pub struct LocalGroup {
    rank: usize,
    seq: AtomicU64,
    shared: Arc<Shared>,
}

impl LocalGroup {
    /// Runs `f` on `world` threads, each with its rank's group, and returns each rank's
    /// result in rank order. A rank that returns (or fails, or panics) while others wait
    /// for it in a collective makes those fail with an error naming it; a collective
    /// that waits longer than `timeout` fails naming the ranks that never came.
    pub fn run<T: Send>(
        world: usize,
        timeout: Duration,
        f: impl Fn(Arc<LocalGroup>) -> Result<T> + Sync,
    ) -> Vec<Result<T>> {
        let shared = Arc::new(Shared { world, timeout, state: Mutex::default(), changed: Condvar::new() });
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..world)
                .map(|rank| {
                    let pg = Arc::new(LocalGroup { rank, seq: AtomicU64::new(0), shared: shared.clone() });
                    let f = &f;
                    let shared = shared.clone();
                    std::thread::Builder::new()
                        .name(format!("lol-rank-{rank}"))
                        .spawn_scoped(s, move || {
                            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(pg)))
                                .unwrap_or_else(|_| Err(Error::msg(format!("rank {rank} panicked"))));
                            let why = match &r {
                                Ok(_) => "finished".to_string(),
                                Err(e) => format!("failed: {e}"),
                            };
                            shared.state.lock().unwrap_or_else(|e| e.into_inner()).gone.insert(rank, why);
                            shared.changed.notify_all();
                            r
                        })
                        .map_err(|e| Error::msg(format!("LocalGroup: could not start rank {rank}: {e}")))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.and_then(|h| h.join().unwrap_or_else(|_| Err(Error::msg("rank thread panicked")))))
                .collect()
        })
    }

    /// Deposits `mine` for collective `seq` and returns every rank's bytes.
    fn exchange(&self, seq: u64, op: &str, mine: Vec<u8>) -> Result<Vec<Vec<u8>>> {
        let sh = &self.shared;
        let deadline = Instant::now() + sh.timeout;
        let mut st = sh.state.lock().unwrap_or_else(|e| e.into_inner());
        let slot = st.slots.entry(seq).or_insert_with(|| Slot { parts: vec![None; sh.world], read: 0 });
        slot.parts[self.rank] = Some(mine);
        sh.changed.notify_all();
        loop {
            let slot = st.slots.get(&seq).ok_or_else(|| Error::msg("internal: LocalGroup slot vanished"))?;
            let missing: Vec<usize> = (0..sh.world).filter(|&r| slot.parts[r].is_none()).collect();
            if missing.is_empty() {
                let parts: Vec<Vec<u8>> = slot.parts.iter().map(|p| p.clone().unwrap_or_default()).collect();
                let slot = st.slots.get_mut(&seq).ok_or_else(|| Error::msg("internal: LocalGroup slot vanished"))?;
                slot.read += 1;
                if slot.read == sh.world {
                    st.slots.remove(&seq);
                }
                return Ok(parts);
            }
            if let Some((r, why)) = missing.iter().find_map(|r| st.gone.get(r).map(|w| (*r, w.clone()))) {
                bail!(Error::msg(format!(
                    "rank {}/{}: collective #{seq} ({op}) cannot complete: rank {r} {why}",
                    self.rank, sh.world
                )));
            }
            let now = Instant::now();
            if now >= deadline {
                bail!(Error::msg(format!(
                    "rank {}/{}: collective #{seq} ({op}) did not complete within {:.1} s: rank(s) {missing:?} never joined it (stuck, or running a different model or step count)",
                    self.rank,
                    sh.world,
                    sh.timeout.as_secs_f64()
                )));
            }
            st = sh.changed.wait_timeout(st, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::SeqCst)
    }
}

fn f32s_to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Sums every rank's f32 values in rank order, so each rank gets the same bits.
fn sum_f32(parts: &[Vec<u8>], n: usize, op: &str) -> Result<Vec<f32>> {
    let mut out = vec![0f32; n];
    for (r, p) in parts.iter().enumerate() {
        if p.len() != n * 4 {
            bail!(Error::shape(
                "all_reduce",
                format!("{op}: rank {r} sent {} values where this rank has {n}", p.len() / 4)
            ));
        }
        for (o, c) in out.iter_mut().zip(p.chunks_exact(4)) {
            *o += f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
    }
    Ok(out)
}

struct Pending(std::thread::JoinHandle<Result<Vec<f32>>>);

impl Work for Pending {
    fn wait(self: Box<Self>) -> Result<Vec<f32>> {
        self.0.join().unwrap_or_else(|_| Err(Error::msg("LocalGroup: the all-reduce thread panicked")))
    }
}

impl ProcessGroup for LocalGroup {
    fn rank(&self) -> usize {
        self.rank
    }
    fn world_size(&self) -> usize {
        self.shared.world
    }
    fn backend(&self) -> &'static str {
        "local"
    }
    fn all_reduce_f32(&self, buf: &mut [f32], op: ReduceOp) -> Result<()> {
        let parts = self.exchange(self.next_seq(), "all_reduce", f32s_to_bytes(buf))?;
        let mut sum = sum_f32(&parts, buf.len(), "all_reduce")?;
        if op == ReduceOp::Mean {
            let w = self.shared.world as f32;
            sum.iter_mut().for_each(|x| *x /= w);
        }
        buf.copy_from_slice(&sum);
        Ok(())
    }
    fn all_reduce_f64(&self, buf: &mut [f64], op: ReduceOp) -> Result<()> {
        let bytes = buf.iter().flat_map(|x| x.to_le_bytes()).collect();
        let parts = self.exchange(self.next_seq(), "all_reduce", bytes)?;
        buf.iter_mut().for_each(|x| *x = 0.0);
        for (r, p) in parts.iter().enumerate() {
            if p.len() != buf.len() * 8 {
                bail!(Error::shape(
                    "all_reduce",
                    format!("rank {r} sent {} values where this rank has {}", p.len() / 8, buf.len())
                ));
            }
            for (o, c) in buf.iter_mut().zip(p.chunks_exact(8)) {
                *o += f64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
            }
        }
        if op == ReduceOp::Mean {
            let w = self.shared.world as f64;
            buf.iter_mut().for_each(|x| *x /= w);
        }
        Ok(())
    }
    fn broadcast_bytes(&self, buf: &mut Vec<u8>, root: usize) -> Result<()> {
        if root >= self.shared.world {
            bail!(Error::arg("broadcast", format!("root {root} is not a rank of a world of {}", self.shared.world)));
        }
        let mine = if self.rank == root { buf.clone() } else { Vec::new() };
        let mut parts = self.exchange(self.next_seq(), "broadcast", mine)?;
        *buf = std::mem::take(&mut parts[root]);
        Ok(())
    }
    fn all_gather_bytes(&self, mine: &[u8]) -> Result<Vec<Vec<u8>>> {
        self.exchange(self.next_seq(), "all_gather", mine.to_vec())
    }
    fn barrier(&self) -> Result<()> {
        self.exchange(self.next_seq(), "barrier", Vec::new()).map(|_| ())
    }
    fn all_reduce_async(&self, buf: Vec<f32>) -> Result<Box<dyn Work>> {
        // The sequence number is taken now, so ops match across ranks in call order
        // however the threads are scheduled.
        let seq = self.next_seq();
        let me = LocalGroup { rank: self.rank, seq: AtomicU64::new(0), shared: self.shared.clone() };
        let h = std::thread::Builder::new()
            .name(format!("lol-rank-{}-comm", self.rank))
            .spawn(move || {
                let parts = me.exchange(seq, "all_reduce", f32s_to_bytes(&buf))?;
                sum_f32(&parts, buf.len(), "all_reduce")
            })
            .map_err(|e| Error::msg(format!("LocalGroup: could not start an all-reduce thread: {e}")))?;
        Ok(Box::new(Pending(h)))
    }
}
