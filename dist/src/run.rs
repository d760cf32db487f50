//! `run`: the body of a data-parallel program, with the failure behaviour a job needs.

use crate::MpiGroup;
use lolcore::Result;
use std::sync::Arc;

/// Joins the MPI job (`MpiGroup::init`), runs `body` with this rank's group, and ends
/// cleanly: a barrier, then `MPI_Finalize`. When `body` fails or panics on any rank,
/// that rank prints `lol-dist rank R/W: error: ...` and aborts the job, so the other
/// ranks stop at once instead of waiting for it (mpirun reports the rank and exit code).
///
/// The body gets the MPI group; GPU programs open their NCCL group from it
/// (`NcclGroup::on_local_gpu(pg)`, feature `nccl`).
///
/// ```no_run
/// lol_dist::run(|pg| {
///     // build the model, then model.fit_with(&x, &y, FitOptions::new(5, 64).distributed(pg.clone()))
///     Ok(())
/// });
/// ```
pub fn run(body: impl FnOnce(Arc<MpiGroup>) -> Result<()>) {
    let pg = match MpiGroup::init() {
        Ok(pg) => pg,
        Err(e) => {
            crate::report(&format!("lol-dist: could not join the MPI job: {e}"));
            std::process::exit(1);
        }
    };
    let (rank, world) = (pg.rank(), pg.world_size());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(pg.clone())));
    let err = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(p) => Some(
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .map_or("panicked".into(), |m| format!("panicked: {m}")),
        ),
    };
    if let Some(msg) = err {
        // Never finalize here: the other ranks wait in a collective; end them now.
        crate::report(&format!("lol-dist rank {rank}/{world}: error: {msg}"));
        pg.abort(1);
    }
    if let Err(e) = pg.shutdown() {
        crate::report(&format!("lol-dist rank {rank}/{world}: error while finishing: {e}"));
        pg.abort(1);
    }
}
