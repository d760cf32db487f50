//! Continues a prompt with a GPT-2 checkpoint from Hugging Face, with the key/value cache.
//!
//! cargo run --release --example gpt2_generate -- DIR --ids "464 2068 7586" [--max-new-tokens N]
//!     [--top-k K | --top-p P] [--temperature T] [--seed S]
//!
//! DIR holds `config.json` and the weights (`model.safetensors`, `pytorch_model.bin` or
//! a sharded index), as `save_pretrained` or the hub leave them. The prompt is token ids;
//! with `--text "..."` it is encoded with DIR/tokenizer.json, which needs the example
//! built with `--features tokenizers` (the Hugging Face `tokenizers` crate). Greedy
//! decoding unless `--top-k` or `--top-p` is given.
use keras::applications::{Gpt2LmHeadModel, Sampling};
use keras::prelude::*;
use std::path::Path;

/// What a run produced: the prompt's ids, the new ids, and their text when a tokenizer read them.
pub struct Generated {
    pub prompt: Vec<u32>,
    pub tokens: Vec<u32>,
    pub text: Option<String>,
}

#[cfg(feature = "tokenizers")]
fn tokenizer(dir: &Path) -> Result<Option<tokenizers::Tokenizer>> {
    let p = dir.join("tokenizer.json");
    if !p.is_file() {
        return Ok(None);
    }
    tokenizers::Tokenizer::from_file(&p)
        .map(Some)
        .map_err(|e| Error::format(&p, format!("cannot read the tokenizer: {e}")))
}

#[cfg(feature = "tokenizers")]
fn encode(dir: &Path, text: &str) -> Result<Vec<u32>> {
    let t =
        tokenizer(dir)?.ok_or_else(|| Error::msg(format!("--text needs {}", dir.join("tokenizer.json").display())))?;
    Ok(t.encode(text, false).map_err(|e| Error::msg(format!("tokenizer: {e}")))?.get_ids().to_vec())
}

#[cfg(feature = "tokenizers")]
fn decode(dir: &Path, ids: &[u32]) -> Result<Option<String>> {
    match tokenizer(dir)? {
        Some(t) => Ok(Some(t.decode(ids, true).map_err(|e| Error::msg(format!("tokenizer: {e}")))?)),
        None => Ok(None),
    }
}

#[cfg(not(feature = "tokenizers"))]
fn encode(_: &Path, _: &str) -> Result<Vec<u32>> {
    Err(Error::msg(
        "--text needs the tokenizers feature: cargo run --release --features tokenizers --example gpt2_generate -- ...",
    ))
}

#[cfg(not(feature = "tokenizers"))]
fn decode(_: &Path, _: &[u32]) -> Result<Option<String>> {
    Ok(None)
}

pub fn run(args: &[String]) -> Result<Generated> {
    let usage = "usage: gpt2_generate DIR (--ids \"1 2 3\" | --text \"...\") [--max-new-tokens N] [--top-k K | --top-p P] [--temperature T] [--seed S]";
    let (mut dir, mut ids, mut text) = (None, None, None);
    let (mut n, mut top_k, mut top_p, mut temperature, mut seed) = (20usize, None, None, 1.0f64, 0u64);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value =
            |name: &str| it.next().cloned().ok_or_else(|| Error::msg(format!("{name} needs a value\n{usage}")));
        let num =
            |name: &str, v: String| v.parse::<f64>().map_err(|_| Error::msg(format!("{name} {v}: expected a number")));
        match a.as_str() {
            "--ids" => ids = Some(value(a)?),
            "--text" => text = Some(value(a)?),
            "--max-new-tokens" => n = num(a, value(a)?)? as usize,
            "--top-k" => top_k = Some(num(a, value(a)?)? as usize),
            "--top-p" => top_p = Some(num(a, value(a)?)?),
            "--temperature" => temperature = num(a, value(a)?)?,
            "--seed" => seed = num(a, value(a)?)? as u64,
            _ if a.starts_with("--") => return Err(Error::msg(format!("unknown option {a}\n{usage}"))),
            _ if dir.is_none() => dir = Some(a.clone()),
            _ => return Err(Error::msg(usage)),
        }
    }
    let dir = dir.ok_or_else(|| Error::msg(usage))?;
    let dir = Path::new(&dir);
    let prompt: Vec<u32> = match (ids, text) {
        (Some(ids), _) => ids
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<u32>().map_err(|_| Error::msg(format!("--ids: {s:?} is not a token id"))))
            .collect::<Result<_>>()?,
        (None, Some(t)) => encode(dir, &t)?,
        (None, None) => return Err(Error::msg(format!("give a prompt\n{usage}"))),
    };
    let sampling = match (top_k, top_p) {
        (Some(k), _) => Sampling::TopK { k, temperature },
        (None, Some(p)) => Sampling::TopP { p, temperature },
        (None, None) => Sampling::Greedy,
    };
    let model = Gpt2LmHeadModel::from_pretrained(dir)?;
    let tokens = model.generate(&prompt, n, sampling, &Generator::new(seed))?;
    let text = decode(dir, &tokens)?;
    Ok(Generated { prompt, tokens, text })
}

#[allow(dead_code)]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(g) => {
            println!("prompt ids: {:?}", g.prompt);
            println!("new ids:    {:?}", g.tokens);
            if let Some(t) = g.text {
                println!("text:       {t}");
            }
        }
        Err(e) => {
            eprintln!("gpt2_generate: {e}");
            std::process::exit(1);
        }
    }
}
