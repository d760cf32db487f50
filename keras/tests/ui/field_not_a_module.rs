use keras::prelude::*;

#[derive(Module)]
struct Net {
    fc: Dense,
    hidden: usize,
}

fn main() {}
