//! Gradient check for dropout. It re-seeds the global generator before every
//! evaluation so each sees the same mask; alone in its binary, no other test can draw
//! from the generator in between.
#![allow(clippy::cloned_ref_to_slice_refs)]
mod common;
use common::{check, rnd};
use lolcore::manual_seed;

#[test]
fn dropout_with_fixed_mask() {
    let a = rnd(&[4, 5], -1.0, 1.0);
    check("dropout", &[a], |x| {
        manual_seed(9); // the same mask on every evaluation
        x[0].dropout(0.3, true)
    });
}
