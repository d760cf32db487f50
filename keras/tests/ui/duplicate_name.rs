use keras::prelude::*;

fn main() {
    let _net = sequential![fc: Dense::new(2, 3), act: Relu, fc: Dense::new(3, 1)];
}
