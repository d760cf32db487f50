use keras::prelude::*;

fn main() {
    let _net = sequential![Dense::new(2, 3), 42u32, Dense::new(3, 1)];
}
