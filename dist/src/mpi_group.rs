//! `MpiGroup`: a process group over MPI (the system's OpenMPI or MPICH, through rsmpi).
//!
//! One communication thread owns MPI: it initialises it, runs every collective (blocking
//! `MPI_Allreduce`, `MPI_Bcast`, ...) in the order they were asked for, and finalises it.
//! Training threads hand it jobs and wait for the answer, or, for gradient buckets,
//! carry on with backward while it works (OpenMPI's non-blocking collectives only move
//! inside MPI calls, so a thread of its own is what makes the overlap real). A watchdog
//! aborts the whole job when one collective takes longer than the timeout.

use crate::watchdog::Watchdog;
use lolcore::dist::{ProcessGroup, ReduceOp, Work};
use lolcore::{Error, Result};
use mpi::collective::SystemOperation;
use mpi::traits::*;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a collective may take before the job is aborted, unless `LOL_DIST_TIMEOUT`
/// (seconds) says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// A caller's buffer, lent to the communication thread while the caller waits for the
/// reply (so the collective reads and writes it without copies through channels).
struct Lent {
    ptr: *mut f32,
    len: usize,
}

// SAFETY: the lending thread blocks until the communication thread replies, and the
// communication thread touches the buffer only before replying.
unsafe impl Send for Lent {}

enum Job {
    /// A blocking all-reduce in the caller's buffer.
    AllReduceLent(Lent, ReduceOp, Sender<Result<()>>),
    AllReduceF32(Vec<f32>, ReduceOp, Sender<Result<Vec<f32>>>),
    AllReduceF64(Vec<f64>, ReduceOp, Sender<Result<Vec<f64>>>),
    Broadcast(Vec<u8>, usize, Sender<Result<Vec<u8>>>),
    AllGather(Vec<u8>, Sender<Result<Vec<Vec<u8>>>>),
    Barrier(Sender<Result<()>>),
    /// Caller's code with the communicator (`with_communicator`).
    Raw(Box<dyn FnOnce(&mpi::topology::SimpleCommunicator) + Send>),
    Shutdown,
}

impl Job {
    fn name(&self) -> String {
        match self {
            Job::AllReduceLent(v, ..) => format!("all_reduce of {} f32", v.len),
            Job::AllReduceF32(v, ..) => format!("all_reduce of {} f32", v.len()),
            Job::AllReduceF64(v, ..) => format!("all_reduce of {} f64", v.len()),
            Job::Broadcast(_, root, _) => format!("broadcast from rank {root}"),
            Job::AllGather(v, _) => format!("all_gather of {} bytes", v.len()),
            Job::Barrier(_) => "barrier".into(),
            Job::Raw(_) => "with_communicator".into(),
            Job::Shutdown => "shutdown".into(),
        }
    }
}

/// This process's rank in an MPI job (`mpirun -np N program`).
pub struct MpiGroup {
    rank: usize,
    world: usize,
    local_rank: usize,
    jobs: Mutex<Option<Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    watchdog: Arc<Watchdog>,
}

impl MpiGroup {
    /// Joins the MPI job this process was started in (`mpirun`), with the timeout from
    /// `LOL_DIST_TIMEOUT` (seconds; default 300). Run alone (no `mpirun`), it is a job
    /// of one rank. Call it once per process.
    pub fn init() -> Result<Arc<MpiGroup>> {
        let timeout = match std::env::var("LOL_DIST_TIMEOUT") {
            Ok(s) => {
                Duration::from_secs_f64(s.trim().parse::<f64>().ok().filter(|t| *t > 0.0).ok_or_else(|| {
                    Error::msg(format!("LOL_DIST_TIMEOUT={s:?}: expected a positive number of seconds"))
                })?)
            }
            Err(_) => DEFAULT_TIMEOUT,
        };
        Self::init_with_timeout(timeout)
    }

    /// `init` with a given bound on how long one collective may take. Past it, this
    /// rank prints which collective hung and aborts the whole job (`MPI_Abort`).
    pub fn init_with_timeout(timeout: Duration) -> Result<Arc<MpiGroup>> {
        let (tx, rx) = channel::<Job>();
        let (ready_tx, ready_rx) = channel::<Result<(usize, usize, usize)>>();
        let watchdog = Watchdog::new(timeout);
        let wd = watchdog.clone();
        let thread = std::thread::Builder::new()
            .name("lol-mpi".into())
            .spawn(move || communication_thread(rx, ready_tx, wd))
            .map_err(|e| Error::msg(format!("MpiGroup: could not start the communication thread: {e}")))?;
        let (rank, world, local_rank) = ready_rx
            .recv()
            .map_err(|_| Error::msg("MpiGroup: the communication thread stopped while starting MPI"))??;
        watchdog.start(rank, world);
        Ok(Arc::new(MpiGroup {
            rank,
            world,
            local_rank,
            jobs: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            watchdog,
        }))
    }

    /// Finalises MPI (`MPI_Finalize` waits for the other ranks, with no timeout: a
    /// rank may still be working alone, e.g. rank 0 evaluating). Collectives after it
    /// fail. `run` calls it; dropping the group does too.
    pub fn shutdown(&self) -> Result<()> {
        self.watchdog.stop();
        if let Some(tx) = self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(Job::Shutdown);
        }
        if let Some(h) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            h.join().map_err(|_| Error::msg("MpiGroup: the communication thread panicked"))?;
        }
        Ok(())
    }

    /// This process's rank (also `ProcessGroup::rank`, here without importing the trait).
    pub fn rank(&self) -> usize {
        self.rank
    }
    /// How many ranks the job has.
    pub fn world_size(&self) -> usize {
        self.world
    }
    /// The rank among this host's processes.
    pub fn local_rank(&self) -> usize {
        self.local_rank
    }

    /// Runs `f` with rsmpi's world communicator on the communication thread (which owns
    /// MPI), in turn with the group's own collectives, and returns its result: for MPI
    /// calls lol does not wrap. Like any collective, every rank must make the same
    /// calls in the same order; the watchdog times `f` as one collective.
    pub fn with_communicator<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mpi::topology::SimpleCommunicator) -> R + Send + 'static,
    ) -> Result<R> {
        self.call(|tx| {
            Job::Raw(Box::new(move |world| {
                let _ = tx.send(Ok(f(world)));
            }))
        })
    }

    /// Ends the whole job now (every rank), with `code` as its exit status.
    pub fn abort(&self, code: i32) -> ! {
        abort_job(code)
    }

    fn submit<T>(&self, make: impl FnOnce(Sender<Result<T>>) -> Job) -> Result<Receiver<Result<T>>> {
        let (tx, rx) = channel();
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let sender = jobs.as_ref().ok_or_else(|| Error::msg("MpiGroup: used after shutdown"))?;
        sender.send(make(tx)).map_err(|_| Error::msg("MpiGroup: the communication thread has stopped"))?;
        Ok(rx)
    }

    fn call<T>(&self, make: impl FnOnce(Sender<Result<T>>) -> Job) -> Result<T> {
        self.submit(make)?.recv().map_err(|_| Error::msg("MpiGroup: the communication thread has stopped"))?
    }
}

impl Drop for MpiGroup {
    fn drop(&mut self) {
        if self.jobs.lock().map(|j| j.is_some()).unwrap_or(false) {
            if std::thread::panicking() {
                // Unwinding past the group: the other ranks may be inside a collective
                // this rank will never join. End the job rather than leave them waiting.
                crate::report(&format!("lol-dist rank {}/{}: panicked; aborting the job", self.rank, self.world));
                abort_job(1);
            }
            let _ = self.shutdown();
        }
    }
}

/// `MPI_Abort` on the world communicator: mpirun then ends every rank.
pub(crate) fn abort_job(code: i32) -> ! {
    // SAFETY: MPI_Abort may be called from any thread once MPI is initialised with
    // MPI_THREAD_MULTIPLE (checked at init); it does not return.
    unsafe {
        mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, code);
    }
    std::process::exit(code)
}

fn communication_thread(jobs: Receiver<Job>, ready: Sender<Result<(usize, usize, usize)>>, wd: Arc<Watchdog>) {
    let Some((universe, threading)) = mpi::initialize_with_threading(mpi::Threading::Multiple) else {
        let _ = ready.send(Err(Error::msg("MpiGroup: MPI was already initialised in this process")));
        return;
    };
    if threading != mpi::Threading::Multiple {
        // The watchdog must be able to abort from its own thread.
        let _ = ready.send(Err(Error::msg(format!(
            "MpiGroup: this MPI provides thread support {threading:?}; MPI_THREAD_MULTIPLE is needed"
        ))));
        return;
    }
    let world = universe.world();
    let local = world.split_shared(world.rank());
    let (rank, size, local_rank) = (world.rank() as usize, world.size() as usize, local.rank() as usize);
    if ready.send(Ok((rank, size, local_rank))).is_err() {
        return;
    }
    // Receive buffers, kept between collectives (MPI has no portable in-place flag in
    // rsmpi): reused, they cost no allocation or page faults per call.
    let mut scratch: Vec<f32> = Vec::new();
    for job in jobs {
        if let Job::Shutdown = job {
            break;
        }
        let token = wd.begin(job.name());
        run_job(&world, job, size, &mut scratch);
        wd.end(token);
    }
    drop(local);
    drop(universe); // MPI_Finalize
}

fn sum_op() -> SystemOperation {
    SystemOperation::sum()
}

fn run_job(world: &mpi::topology::SimpleCommunicator, job: Job, size: usize, scratch: &mut Vec<f32>) {
    let mean = |v: &mut [f32], op: ReduceOp| {
        if op == ReduceOp::Mean {
            v.iter_mut().for_each(|x| *x /= size as f32);
        }
    };
    match job {
        Job::AllReduceLent(lent, op, tx) => {
            // SAFETY: see `Lent`: the caller waits on `tx` and the buffer is not used
            // after the reply.
            let buf = unsafe { std::slice::from_raw_parts_mut(lent.ptr, lent.len) };
            if scratch.len() < buf.len() {
                scratch.resize(buf.len(), 0.0);
            }
            let recv = &mut scratch[..buf.len()];
            world.all_reduce_into(&buf[..], &mut recv[..], sum_op());
            buf.copy_from_slice(recv);
            mean(buf, op);
            let _ = tx.send(Ok(()));
        }
        Job::AllReduceF32(send, op, tx) => {
            // Receive into the scratch buffer, hand it out, and keep the sent one as
            // the next scratch: no copy and no allocation.
            let mut recv = std::mem::take(scratch);
            recv.resize(send.len(), 0.0);
            world.all_reduce_into(&send[..], &mut recv[..], sum_op());
            mean(&mut recv, op);
            *scratch = send;
            let _ = tx.send(Ok(recv));
        }
        Job::AllReduceF64(send, op, tx) => {
            let mut recv = vec![0f64; send.len()];
            world.all_reduce_into(&send[..], &mut recv[..], sum_op());
            if op == ReduceOp::Mean {
                recv.iter_mut().for_each(|x| *x /= size as f64);
            }
            let _ = tx.send(Ok(recv));
        }
        Job::Broadcast(mut buf, root, tx) => {
            let root_proc = world.process_at_rank(root as i32);
            let mut len = buf.len() as u64;
            root_proc.broadcast_into(&mut len);
            buf.resize(len as usize, 0);
            if len > 0 {
                root_proc.broadcast_into(&mut buf[..]);
            }
            let _ = tx.send(Ok(buf));
        }
        Job::AllGather(mine, tx) => {
            let mut lens = vec![0u64; size];
            world.all_gather_into(&(mine.len() as u64), &mut lens[..]);
            let max = lens.iter().copied().max().unwrap_or(0) as usize;
            let mut padded = mine;
            padded.resize(max, 0);
            let mut all = vec![0u8; max * size];
            if max > 0 {
                world.all_gather_into(&padded[..], &mut all[..]);
            }
            let parts = (0..size).map(|r| all[r * max..r * max + lens[r] as usize].to_vec()).collect();
            let _ = tx.send(Ok(parts));
        }
        Job::Barrier(tx) => {
            world.barrier();
            let _ = tx.send(Ok(()));
        }
        Job::Raw(f) => f(world),
        Job::Shutdown => {}
    }
}

struct Pending(Receiver<Result<Vec<f32>>>);

impl Work for Pending {
    fn wait(self: Box<Self>) -> Result<Vec<f32>> {
        self.0.recv().map_err(|_| Error::msg("MpiGroup: the communication thread has stopped"))?
    }
}

impl ProcessGroup for MpiGroup {
    fn rank(&self) -> usize {
        self.rank
    }
    fn world_size(&self) -> usize {
        self.world
    }
    fn local_rank(&self) -> usize {
        self.local_rank
    }
    fn backend(&self) -> &'static str {
        "mpi"
    }
    fn all_reduce_f32(&self, buf: &mut [f32], op: ReduceOp) -> Result<()> {
        let lent = Lent { ptr: buf.as_mut_ptr(), len: buf.len() };
        self.call(|tx| Job::AllReduceLent(lent, op, tx))
    }
    fn all_reduce_f64(&self, buf: &mut [f64], op: ReduceOp) -> Result<()> {
        let out = self.call(|tx| Job::AllReduceF64(buf.to_vec(), op, tx))?;
        buf.copy_from_slice(&out);
        Ok(())
    }
    fn broadcast_bytes(&self, buf: &mut Vec<u8>, root: usize) -> Result<()> {
        if root >= self.world {
            return Err(Error::arg("broadcast", format!("root {root} is not a rank of a world of {}", self.world)));
        }
        *buf = self.call(|tx| Job::Broadcast(std::mem::take(buf), root, tx))?;
        Ok(())
    }
    fn all_gather_bytes(&self, mine: &[u8]) -> Result<Vec<Vec<u8>>> {
        self.call(|tx| Job::AllGather(mine.to_vec(), tx))
    }
    fn barrier(&self) -> Result<()> {
        self.call(Job::Barrier)
    }
    fn all_reduce_async(&self, buf: Vec<f32>) -> Result<Box<dyn Work>> {
        Ok(Box::new(Pending(self.submit(|tx| Job::AllReduceF32(buf, ReduceOp::Sum, tx))?)))
    }
}
