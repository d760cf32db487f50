//! The structure check at the start of data-parallel training: every rank must hold the
//! same parameters and buffers (names, shapes, dtypes, order), or all-reducing their
//! gradients would deadlock or silently mix unrelated values. A mismatch fails on every
//! rank with the first entry that differs.

use super::group::ProcessGroup;
use crate::error::{bail, Error, Result};
use crate::Tensor;

/// One line per tensor: `name shape dtype kind`.
fn entries(params: &[(String, Tensor)], buffers: &[(String, Tensor)]) -> Vec<String> {
    let line = |kind: &str, (n, t): &(String, Tensor)| format!("{kind} `{n}` {:?} {}", t.shape(), t.dtype());
    params.iter().map(|p| line("parameter", p)).chain(buffers.iter().map(|b| line("buffer", b))).collect()
}

/// Fails (on every rank alike) unless all ranks hold the same parameters and buffers.
pub fn check_same_structure(
    pg: &dyn ProcessGroup,
    params: &[(String, Tensor)],
    buffers: &[(String, Tensor)],
) -> Result<()> {
    let mine = entries(params, buffers);
    let all = pg.all_gather_bytes(mine.join("\n").as_bytes())?;
    let reference: Vec<&str> =
        std::str::from_utf8(&all[0]).unwrap_or("").split('\n').filter(|s| !s.is_empty()).collect();
    for (r, bytes) in all.iter().enumerate().skip(1) {
        let theirs: Vec<&str> =
            std::str::from_utf8(bytes).unwrap_or("").split('\n').filter(|s| !s.is_empty()).collect();
        if theirs == reference {
            continue;
        }
        let i = reference.iter().zip(&theirs).take_while(|(a, b)| a == b).count();
        let msg = match (reference.get(i), theirs.get(i)) {
            (Some(a), Some(b)) => {
                format!("rank {r} has {b} where rank 0 has {a} (entry {} of {})", i + 1, reference.len())
            }
            (Some(a), None) => format!("rank {r} has {} tensors and lacks rank 0's {a}", theirs.len()),
            (None, Some(b)) => format!("rank {r} has {b}, which rank 0 lacks ({} tensors)", reference.len()),
            (None, None) => "the ranks' tensor lists differ".into(),
        };
        bail!(Error::msg(format!(
            "data-parallel: the model differs between ranks (rank {}/{} checked): {msg}; every rank must build the same model",
            pg.rank(),
            pg.world_size()
        )));
    }
    Ok(())
}
