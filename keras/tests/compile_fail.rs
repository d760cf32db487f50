//! Misuse of `sequential!` and `#[derive(Module)]` fails to compile with a message that
//! points at the offending layer or field (expected output in tests/ui/*.stderr;
//! regenerate with TRYBUILD=overwrite after an intended change).
#[test]
fn macro_errors_point_at_the_offending_layer() {
    // trybuild compiles the cases with cargo: a packed test binary on a machine with no
    // Rust toolchain (the GPU hosts) has nothing to run them with.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    if std::process::Command::new(&cargo).arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        println!("skipped: no cargo here to compile the cases with");
        return;
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
