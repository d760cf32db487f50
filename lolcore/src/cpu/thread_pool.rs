//! A small fork-join pool for CPU kernels. The calling thread works alongside
//! `threads − 1` persistent workers, which spin briefly between jobs before parking.
//! Small models issue many short parallel ops; handing each to rayon from a non-pool
//! thread put the caller to sleep and woke it again every op (a fifth of the seed
//! two-layer step went to the scheduler). Here a job costs a few atomics.
//!
//! Nested calls, and calls while another thread holds the pool, run serially on the
//! calling thread, so kernels may call `par_for` freely.

use std::cell::Cell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long an idle worker spins before parking.
const SPIN: Duration = Duration::from_millis(5);

struct Job {
    f: *const (dyn Fn(usize) + Sync),
    n: usize,
    next: AtomicUsize,
    done: AtomicUsize,
    panicked: AtomicUsize,
}

struct Shared {
    epoch: AtomicU64,
    job: AtomicPtr<Job>,
    /// Workers currently looking at `job` (the caller waits for 0 before freeing it).
    busy: AtomicUsize,
    park: Mutex<()>,
    wake: Condvar,
}

struct Pool {
    shared: Arc<Shared>,
    threads: usize,
    /// One job at a time; other callers run serially.
    owner: Mutex<()>,
}

thread_local! {
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// The thread count `set_num_threads` asked for (0: all of the pool).
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// Threads used by CPU kernels: `set_num_threads`, else `LOL_NUM_THREADS`, else the
/// machine's parallelism. Kernels split their work by this number (not by which threads
/// happen to be free), so results depend on it and on nothing else.
pub fn num_threads() -> usize {
    let all = pool().threads;
    match ACTIVE.load(SeqCst) {
        0 => all,
        n => n.min(all),
    }
}

/// Limits CPU kernels to `n` threads, the caller's included (PyTorch's
/// `torch.set_num_threads`); at most the pool's size, which `LOL_NUM_THREADS` or the
/// machine fixes when the first kernel runs. `0` restores the full pool.
pub fn set_num_threads(n: usize) {
    ACTIVE.store(n, SeqCst);
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::env::var("LOL_NUM_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
        let shared = Arc::new(Shared {
            epoch: AtomicU64::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            busy: AtomicUsize::new(0),
            park: Mutex::new(()),
            wake: Condvar::new(),
        });
        for i in 1..threads {
            let s = shared.clone();
            let spawned = std::thread::Builder::new().name(format!("lol-cpu-{i}")).spawn(move || worker(&s, i));
            if spawned.is_err() {
                return Pool { shared, threads: i, owner: Mutex::new(()) };
            }
        }
        Pool { shared, threads, owner: Mutex::new(()) }
    })
}

/// Claims and runs indices of `job` until none are left.
///
/// # Safety
/// `job` must point to a live `Job` whose closure is alive.
unsafe fn run_job(job: &Job) {
    loop {
        let i = job.next.fetch_add(1, SeqCst);
        if i >= job.n {
            break;
        }
        let f = &*job.f;
        if catch_unwind(AssertUnwindSafe(|| f(i))).is_err() {
            job.panicked.fetch_add(1, SeqCst);
        }
        job.done.fetch_add(1, SeqCst);
    }
}

/// Worker `index` (1-based: the caller is thread 0) joins jobs while the active thread
/// count includes it.
fn worker(s: &Shared, index: usize) {
    INSIDE.with(|c| c.set(true));
    let mut seen = 0u64;
    loop {
        // Spin for a new epoch, then park.
        let start = Instant::now();
        let mut spins = 0u32;
        while s.epoch.load(SeqCst) == seen {
            spins = spins.wrapping_add(1);
            // Reading the clock costs more than a spin: look at it now and then.
            if spins.is_multiple_of(256) && start.elapsed() > SPIN {
                let g = s.park.lock().unwrap_or_else(|e| e.into_inner());
                if s.epoch.load(SeqCst) == seen {
                    let _g = s.wake.wait_timeout(g, Duration::from_millis(50)).unwrap_or_else(|e| e.into_inner());
                }
            } else {
                std::hint::spin_loop();
            }
        }
        seen = s.epoch.load(SeqCst);
        if index >= num_threads() {
            continue;
        }
        s.busy.fetch_add(1, SeqCst);
        let p = s.job.load(SeqCst);
        if !p.is_null() {
            // SAFETY: the caller keeps the job alive until `busy` drops to 0 after it has
            // cleared `job`; we registered in `busy` before loading the pointer.
            unsafe { run_job(&*p) };
        }
        s.busy.fetch_sub(1, SeqCst);
    }
}

/// Runs `f(0..n)` across the pool's threads (the caller included) and returns when all
/// are done. Order is unspecified; a panic in `f` is re-raised here.
pub fn par_for(n: usize, f: impl Fn(usize) + Sync) {
    let serial = |f: &dyn Fn(usize)| (0..n).for_each(f);
    if n <= 1 || INSIDE.with(|c| c.get()) {
        return serial(&f);
    }
    let p = pool();
    if num_threads() <= 1 {
        return serial(&f);
    }
    let Ok(_owner) = p.owner.try_lock() else { return serial(&f) };
    let fref: &(dyn Fn(usize) + Sync) = &f;
    // SAFETY: erases the closure's lifetime; it outlives every use (see below).
    let fptr: *const (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(fref) };
    let job = Job { f: fptr, n, next: AtomicUsize::new(0), done: AtomicUsize::new(0), panicked: AtomicUsize::new(0) };
    let s = &p.shared;
    s.job.store(&job as *const Job as *mut Job, SeqCst);
    s.epoch.fetch_add(1, SeqCst);
    {
        let _g = s.park.lock().unwrap_or_else(|e| e.into_inner());
        s.wake.notify_all();
    }
    INSIDE.with(|c| c.set(true));
    // SAFETY: `job` lives on this frame until the end of the function.
    unsafe { run_job(&job) };
    INSIDE.with(|c| c.set(false));
    while job.done.load(SeqCst) < n {
        std::hint::spin_loop();
    }
    // Nobody may touch `job` after this frame: clear it and wait out late readers.
    s.job.store(std::ptr::null_mut(), SeqCst);
    while s.busy.load(SeqCst) != 0 {
        std::hint::spin_loop();
    }
    if job.panicked.load(SeqCst) > 0 {
        resume_unwind(Box::new("a parallel CPU kernel panicked"));
    }
}

/// Shares a raw output pointer with the pool; each task writes a disjoint part.
pub struct SyncPtr<T>(pub *mut T);
impl<T> Clone for SyncPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SyncPtr<T> {}
unsafe impl<T> Send for SyncPtr<T> {}
unsafe impl<T> Sync for SyncPtr<T> {}

/// Calls `f(i, chunk_i)` for consecutive chunks of `chunk` elements, in parallel.
pub fn par_chunks_mut<T: Send>(data: &mut [T], chunk: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    let chunk = chunk.max(1);
    let len = data.len();
    let n = len.div_ceil(chunk);
    let base = SyncPtr(data.as_mut_ptr());
    par_for(n, |i| {
        let start = i * chunk;
        let l = chunk.min(len - start);
        let b = base;
        // SAFETY: chunk i covers start..start+l, disjoint from every other chunk.
        let part = unsafe { std::slice::from_raw_parts_mut(b.0.add(start), l) };
        f(i, part)
    });
}

/// Like `par_chunks_mut` over two slices chunked in step (`a` by `ca`, `b` by `cb`).
pub fn par_chunks_mut2<A: Send, B: Send>(
    a: &mut [A],
    ca: usize,
    b: &mut [B],
    cb: usize,
    f: impl Fn(usize, &mut [A], &mut [B]) + Sync,
) {
    let n = a.len().div_ceil(ca.max(1)).min(b.len().div_ceil(cb.max(1)));
    let (pa, pb) = (SyncPtr(a.as_mut_ptr()), SyncPtr(b.as_mut_ptr()));
    let (la, lb) = (a.len(), b.len());
    par_for(n, |i| {
        let (x, y) = (pa, pb);
        // SAFETY: chunks i of each slice are disjoint from all other chunks.
        let sa = unsafe { std::slice::from_raw_parts_mut(x.0.add(i * ca), ca.min(la - i * ca)) };
        let sb = unsafe { std::slice::from_raw_parts_mut(y.0.add(i * cb), cb.min(lb - i * cb)) };
        f(i, sa, sb)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_runs_once_and_nesting_is_serial() {
        let hits: Vec<AtomicUsize> = (0..1000).map(|_| AtomicUsize::new(0)).collect();
        for _ in 0..50 {
            par_for(1000, |i| {
                hits[i].fetch_add(1, SeqCst);
                if i == 0 {
                    par_for(3, |_| {});
                }
            });
        }
        assert!(hits.iter().all(|h| h.load(SeqCst) == 50));
        let mut v = vec![0u32; 1001];
        par_chunks_mut(&mut v, 100, |i, c| c.iter_mut().for_each(|x| *x = i as u32));
        assert_eq!(v[1000], 10);
        assert_eq!(v[150], 1);
    }

    #[test]
    fn concurrent_callers_are_safe() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    let sum = AtomicUsize::new(0);
                    for _ in 0..200 {
                        par_for(64, |i| {
                            sum.fetch_add(i, SeqCst);
                        });
                    }
                    sum.load(SeqCst)
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 200 * (63 * 64 / 2));
        }
    }
}
