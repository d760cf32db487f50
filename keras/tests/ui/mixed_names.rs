use keras::prelude::*;

fn main() {
    let _net = sequential![fc1: Dense::new(2, 3), Relu, fc2: Dense::new(3, 1)];
}
