//! The watchdog of `MpiGroup`: MPI has no timeout on collectives, so a rank that hangs
//! (alive, but never joining the next collective) would hold every other rank forever.
//! A thread checks the collective in flight every 100 ms; past the timeout it names the
//! collective and aborts the whole job (mpirun then ends every rank), as PyTorch's NCCL
//! watchdog and Horovod's stall check do. A rank that dies or exits is mpirun's to
//! notice: it ends the job at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct InFlight {
    seq: u64,
    name: String,
    since: Instant,
}

pub(crate) struct Watchdog {
    timeout: Duration,
    current: Mutex<Option<InFlight>>,
    next_seq: Mutex<u64>,
    stopped: AtomicBool,
}

impl Watchdog {
    pub fn new(timeout: Duration) -> Arc<Self> {
        Arc::new(Watchdog {
            timeout,
            current: Mutex::new(None),
            next_seq: Mutex::new(0),
            stopped: AtomicBool::new(false),
        })
    }

    /// Starts the checking thread (once the rank is known, for the message).
    pub fn start(self: &Arc<Self>, rank: usize, world: usize) {
        let me = self.clone();
        let spawned = std::thread::Builder::new().name("lol-mpi-watchdog".into()).spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            if me.stopped.load(Ordering::Relaxed) {
                return;
            }
            let late = me
                .current
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .and_then(|f| (f.since.elapsed() > me.timeout).then(|| (f.seq, f.name.clone())));
            if let Some((seq, name)) = late {
                crate::report(&format!(
                    "lol-dist rank {rank}/{world}: collective #{seq} ({name}) did not complete within {:.1} s: \
                     another rank died, is stuck, or runs a different model or step count; aborting the job \
                     (LOL_DIST_TIMEOUT sets the limit)",
                    me.timeout.as_secs_f64()
                ));
                crate::mpi_group::abort_job(70);
            }
        });
        if let Err(e) = spawned {
            crate::report(&format!(
                "lol-dist rank {rank}/{world}: could not start the watchdog ({e}); hung collectives will not time out"
            ));
        }
    }

    /// A collective starts; returns its number.
    pub fn begin(&self, name: String) -> u64 {
        let mut n = self.next_seq.lock().unwrap_or_else(|e| e.into_inner());
        let seq = *n;
        *n += 1;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(InFlight { seq, name, since: Instant::now() });
        seq
    }

    /// Collective `seq` completed.
    pub fn end(&self, seq: u64) {
        let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if cur.as_ref().is_some_and(|f| f.seq == seq) {
            *cur = None;
        }
    }

    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }
}
