//! Mutation fuzzing of the checkpoint reader: files PyTorch, NumPy and safetensors
//! wrote, with bytes flipped, lengths overwritten by extreme values, cut short,
//! spliced and duplicated; half the cases of a torch file change only its pickle, so
//! the unpickler sees hostile opcodes inside a well-formed zip or legacy frame. Every case must end in `Ok` or `Err`: never a panic, and
//! never one allocation above 512 MiB (the allocator below fails the process if so).
//!
//! `LOL_FUZZ_CASES=100000 cargo test --release -p lolcore --test checkpoint_fuzz`
//! runs the long campaign; CI runs 3,000 cases.

use lolcore::checkpoint::Checkpoint;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;

struct CappedAlloc;

const CAP: usize = 512 << 20;

unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if l.size() > CAP {
            return std::ptr::null_mut(); // aborts the process: the test fails
        }
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if n > CAP {
            return std::ptr::null_mut();
        }
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static ALLOC: CappedAlloc = CappedAlloc;

/// SplitMix64: a small deterministic generator (the campaign must replay exactly).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/checkpoints");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
        if ["pt", "npz", "npy", "safetensors", "bin"].contains(&ext) {
            out.push((p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    assert!(out.len() >= 15, "fixtures missing: {}", out.len());
    out
}

/// Where a pickle starts in a file (its protocol-2 header), if it has one: mutating
/// only there keeps the zip or legacy framing intact and reaches the unpickler.
fn pickle_start(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\x80\x02")
}

/// Flips, overwrites and extreme values inside the pickle, the framing left whole.
fn mutate_pickle(r: &mut Rng, src: &[u8], at: usize) -> Vec<u8> {
    let mut b = src.to_vec();
    let span = (b.len() - at).min(4096);
    for _ in 0..1 + r.below(3) {
        let i = at + r.below(span);
        match r.below(3) {
            0 => b[i] ^= 1 << r.below(8),
            1 => b[i] = r.next() as u8,
            _ => {
                let v = [0u8, 1, 0x7f, 0xff][r.below(4)];
                for k in 0..[1, 2, 4][r.below(3)] {
                    if i + k < b.len() {
                        b[i + k] = v;
                    }
                }
            }
        }
    }
    b
}

fn mutate(r: &mut Rng, src: &[u8], other: &[u8]) -> Vec<u8> {
    if let Some(at) = pickle_start(src).filter(|_| r.below(2) == 0) {
        return mutate_pickle(r, src, at);
    }
    let mut b = src.to_vec();
    for _ in 0..1 + r.below(4) {
        if b.is_empty() {
            break;
        }
        match r.below(7) {
            0 => {
                let i = r.below(b.len());
                b[i] ^= 1 << r.below(8);
            }
            1 => {
                let i = r.below(b.len());
                b[i] = r.next() as u8;
            }
            2 => {
                // An extreme length or count where one might be.
                let vals: [u64; 6] = [0, 1, 0x7fff_ffff, 0xffff_ffff, u64::MAX, 1 << 40];
                let v = vals[r.below(vals.len())].to_le_bytes();
                let w = [1, 2, 4, 8][r.below(4)];
                let i = r.below(b.len());
                for k in 0..w {
                    if i + k < b.len() {
                        b[i + k] = v[k];
                    }
                }
            }
            3 => {
                let n = r.below(b.len());
                b.truncate(n);
            }
            4 => {
                let i = r.below(b.len());
                let n = r.below(64).min(other.len());
                let j = r.below(other.len().saturating_sub(n).max(1));
                b.splice(i..i, other[j..j + n].iter().copied());
            }
            5 => {
                let i = r.below(b.len());
                let n = r.below(32).min(b.len() - i);
                let chunk: Vec<u8> = b[i..i + n].to_vec();
                b.splice(i..i, chunk);
            }
            _ => {
                let i = r.below(b.len());
                let n = r.below(32).min(b.len() - i);
                b.drain(i..i + n);
            }
        }
    }
    b
}

#[test]
fn the_reader_never_panics_on_mutated_files() {
    let cases: usize = std::env::var("LOL_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let seeds = seeds();
    let mut r = Rng(0x5eed);
    let (mut ok, mut err) = (0usize, 0usize);
    for case in 0..cases {
        let (name, src) = &seeds[case % seeds.len()];
        let other = &seeds[r.below(seeds.len())].1;
        let bytes = mutate(&mut r, src, other);
        let res = std::panic::catch_unwind(|| match Checkpoint::from_bytes(bytes.clone(), "fuzz") {
            Ok(ck) => {
                for e in ck.tensors() {
                    let _ = ck.bytes(e);
                    let _ = ck.values(e);
                }
                true
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                false
            }
        });
        match res {
            Ok(true) => ok += 1,
            Ok(false) => err += 1,
            Err(_) => {
                let path = std::env::temp_dir().join(format!("lol_fuzz_crash_{case}.bin"));
                let _ = std::fs::write(&path, &bytes);
                panic!("case {case} (from {name}) panicked; input saved to {}", path.display());
            }
        }
    }
    eprintln!("{cases} cases: {ok} read, {err} rejected with an error");
    assert_eq!(ok + err, cases);
    assert!(ok > 0 && err > 0, "mutations should both survive and break files");
}
