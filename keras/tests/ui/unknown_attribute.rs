use keras::prelude::*;

#[derive(Module)]
struct Net {
    #[module(frozen)]
    fc: Dense,
}

fn main() {}
