//! The `Dataset` trait and a dataset over two tensors.

use lolcore::{Error, Result, Tensor};

/// Samples by index: `(features, target)`.
pub trait Dataset: Send + Sync {
    fn len(&self) -> usize;
    fn get(&self, index: usize) -> Result<(Tensor, Tensor)>;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A whole batch, samples stacked along a new dim 0. Override when a dataset can
    /// gather a batch faster than sample by sample.
    fn get_batch(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        let mut xs = Vec::with_capacity(indices.len());
        let mut ys = Vec::with_capacity(indices.len());
        for &i in indices {
            let (x, y) = self.get(i)?;
            xs.push(x);
            ys.push(y);
        }
        Ok((Tensor::stack(&xs, 0)?, Tensor::stack(&ys, 0)?))
    }
}

/// Samples are rows of two tensors with the same first dim (`TensorDataset`).
#[derive(Clone, Debug)]
pub struct TensorDataset {
    x: Tensor,
    y: Tensor,
}

impl TensorDataset {
    pub fn new(x: &Tensor, y: &Tensor) -> Result<Self> {
        let (nx, ny) = (x.dims().first().copied(), y.dims().first().copied());
        if nx.is_none() || nx != ny {
            return Err(Error::shape(
                "TensorDataset",
                format!("x {:?} and y {:?} must have the same number of samples", x.dims(), y.dims()),
            ));
        }
        Ok(TensorDataset { x: x.clone(), y: y.clone() })
    }
}

impl Dataset for TensorDataset {
    fn len(&self) -> usize {
        self.x.dims()[0]
    }
    fn get(&self, i: usize) -> Result<(Tensor, Tensor)> {
        if i >= self.len() {
            return Err(Error::index("TensorDataset", format!("sample {i} of {}", self.len())));
        }
        Ok((self.x.narrow(0, i, 1)?.squeeze(0)?, self.y.narrow(0, i, 1)?.squeeze(0)?))
    }
    fn get_batch(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        let ids = Tensor::from_vec(indices.iter().map(|&i| i as u32).collect(), &[indices.len()], &self.x.device())?;
        Ok((self.x.index_select(&ids, 0)?, self.y.index_select(&ids, 0)?))
    }
}
