//! `to_categorical` (Keras's `keras.utils.to_categorical`): integer labels to one-hot rows.

use lolcore::{DType, Error, Result, Tensor};

/// One-hot f32 rows `[n, num_classes]` for integer labels `[n]` (u8, u32 or i64), for
/// `Loss::CategoricalCrossentropy`. A label outside `0..num_classes` is an error.
pub fn to_categorical(labels: &Tensor, num_classes: usize) -> Result<Tensor> {
    let op = "to_categorical";
    if labels.dtype().is_float() {
        return Err(Error::dtype(op, format!("labels must be integers, got {}", labels.dtype())));
    }
    let n = labels.numel();
    let ids = labels.reshape(&[n])?.to_dtype(DType::I64)?;
    if n > 0 {
        let (lo, hi) = (ids.min_all()?.to_scalar::<i64>()?, ids.max_all()?.to_scalar::<i64>()?);
        if lo < 0 || hi >= num_classes as i64 {
            let bad = if lo < 0 { lo } else { hi };
            return Err(Error::index(op, format!("label {bad} is out of range for {num_classes} classes")));
        }
    }
    Tensor::eye(num_classes, &labels.device())?.index_select(&ids.to_dtype(DType::U32)?, 0)
}
