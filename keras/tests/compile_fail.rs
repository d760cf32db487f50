//! Misuse of `sequential!` and `#[derive(Module)]` fails to compile with a message that
//! points at the offending layer or field (expected output in tests/ui/*.stderr;
//! regenerate with TRYBUILD=overwrite after an intended change).
#[test]
fn macro_errors_point_at_the_offending_layer() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
