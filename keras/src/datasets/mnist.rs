//! MNIST in IDX files (the layout of the original distribution and of `data/mnist`).

use super::idx::read_idx;
use lolcore::{Error, Result, Tensor};
use std::path::{Path, PathBuf};

/// `((x_train, y_train), (x_test, y_test))`: images `[n, 28, 28]` u8 and labels `[n]` u8,
/// as Keras's `mnist.load_data()` returns them. Reads `train-images-idx3-ubyte`,
/// `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` from
/// `dir`, each optionally `.gz`.
pub fn load_data<P: AsRef<Path>>(dir: P) -> Result<((Tensor, Tensor), (Tensor, Tensor))> {
    let dir = dir.as_ref();
    let find = |stem: &str| -> Result<PathBuf> {
        [dir.join(stem), dir.join(format!("{stem}.gz"))]
            .into_iter()
            .find(|p| p.exists())
            .ok_or_else(|| Error::format(dir, format!("no {stem} (or {stem}.gz) in this directory")))
    };
    let pair = |img: &str, lbl: &str| -> Result<(Tensor, Tensor)> {
        let (x, y) = (read_idx(find(img)?)?, read_idx(find(lbl)?)?);
        if x.rank() != 3 || y.rank() != 1 || x.dims()[0] != y.dims()[0] {
            return Err(Error::format(
                dir,
                format!("{img} {:?} and {lbl} {:?} do not pair up as images and labels", x.dims(), y.dims()),
            ));
        }
        Ok((x, y))
    };
    Ok((
        pair("train-images-idx3-ubyte", "train-labels-idx1-ubyte")?,
        pair("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?,
    ))
}
