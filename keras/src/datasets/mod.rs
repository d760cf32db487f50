//! Ready-made datasets.

pub mod idx;
pub mod mnist;
