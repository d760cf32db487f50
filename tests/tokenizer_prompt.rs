//! `gpt2_generate --text` through a tokenizer.json (Hugging Face's `tokenizers`):
//! `cargo test --features tokenizers --test tokenizer_prompt`. Without the feature the
//! example says how to enable it.
#![allow(clippy::duplicate_mod)]
#[path = "../examples/gpt2_generate.rs"]
mod gpt2_generate;

fn dir() -> String {
    format!("{}/tests/fixtures/zoo/gpt2_tiny_tokenizer", env!("CARGO_MANIFEST_DIR"))
}

#[cfg(feature = "tokenizers")]
#[test]
fn a_text_prompt_is_encoded_as_the_python_tokenizer_does() {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{}/expected.json", dir())).unwrap()).unwrap();
    let prompt = expected["prompt"].as_str().unwrap();
    let ids: Vec<u32> = expected["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let g = gpt2_generate::run(&a(&[&dir(), "--text", prompt, "--max-new-tokens", "4"])).unwrap();
    assert_eq!(g.prompt, ids);
    assert_eq!(g.tokens.len(), 4);
    assert!(g.text.is_some());
    // The same prompt as ids continues the same way.
    let as_ids = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(" ");
    assert_eq!(gpt2_generate::run(&a(&[&dir(), "--ids", &as_ids, "--max-new-tokens", "4"])).unwrap().tokens, g.tokens);
}

#[cfg(not(feature = "tokenizers"))]
#[test]
fn without_the_feature_a_text_prompt_says_how_to_enable_it() {
    let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let err = gpt2_generate::run(&a(&[&dir(), "--text", "the fox"])).err().unwrap().to_string();
    assert!(err.contains("--features tokenizers"), "{err}");
}
