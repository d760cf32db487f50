use keras::prelude::*;

fn main() {
    let _net = sequential![];
}
