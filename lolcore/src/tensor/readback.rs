//! Reading values back to the host.

use super::Tensor;
use crate::cpu::{CpuElem, CpuStorage};
use crate::error::{bail, Error, Result};

impl Tensor {
    /// A contiguous host copy of the values, converted to `T` if the dtype differs.
    pub(crate) fn to_cpu_storage(&self) -> Result<CpuStorage> {
        self.storage().to_cpu(self.layout())
    }

    /// All values, row-major and flattened, as `T` (converted if the dtype differs).
    pub fn to_vec<T: CpuElem>(&self) -> Result<Vec<T>> {
        let host = self.to_cpu_storage()?;
        let host = if host.dtype() == T::DTYPE {
            host
        } else {
            crate::cpu::cast::to_dtype(&host, &crate::layout::Layout::contiguous(self.shape()), T::DTYPE)
        };
        T::into_vec(host).map_err(|s| Error::dtype("to_vec", format!("could not read {} as {}", s.dtype(), T::DTYPE)))
    }
    /// The values of a 2-D tensor as rows.
    pub fn to_vec2<T: CpuElem>(&self) -> Result<Vec<Vec<T>>> {
        let [r, c] = self.shape() else {
            bail!(Error::shape("to_vec2", format!("needs a 2-D tensor, got shape {:?}", self.shape())))
        };
        let c = *c;
        let v = self.to_vec::<T>()?;
        Ok((0..*r).map(|i| v[i * c..(i + 1) * c].to_vec()).collect())
    }
    /// The single value of a tensor with one element (any shape).
    pub fn to_scalar<T: CpuElem>(&self) -> Result<T> {
        if self.numel() != 1 {
            bail!(Error::shape(
                "to_scalar",
                format!("needs exactly one element, shape {:?} has {}", self.shape(), self.numel())
            ));
        }
        Ok(self.to_vec::<T>()?[0])
    }
}
