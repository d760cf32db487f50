//! Random streams with PyTorch's semantics. A [`Generator`] is a seeded stream that
//! initialisers, dropout, shuffling and data loaders can take. Without one they draw from
//! the *current* generator: the one [`with_generator`] installed on this thread, else the
//! thread's default, which [`manual_seed`] seeds (as `torch.manual_seed` does). Unlike
//! PyTorch's one process-wide default, defaults are per thread, so two threads (two
//! tests) drawing at once cannot disturb each other's sequence.
//!
//! The framework's own threads never draw from a default: a `DataLoader` gives each
//! batch its own stream derived from one seed drawn on the calling thread, so 0, 1 or 4
//! workers build the same batches, and CPU kernels draw nothing. So a program that calls
//! `manual_seed` and then builds and trains on that thread repeats exactly.
//!
//! ```
//! use lolcore::rng::{with_generator, Generator};
//! use lolcore::{Device, Tensor};
//! let g = Generator::new(7);
//! let a = with_generator(&g, || Tensor::randn(&[3], &Device::Cpu))?;
//! let b = Tensor::randn_with(&[3], &Device::Cpu, &Generator::new(7))?;
//! assert_eq!(a.to_vec::<f32>()?, b.to_vec::<f32>()?);
//! # Ok::<(), lolcore::Error>(())
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// xoshiro256++: fast, small state, good statistical quality.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

/// SplitMix64: spreads a seed (or a seed and a stream index) over 64 bits.
fn splitmix(z: &mut u64) -> u64 {
    *z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut x = *z;
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The seed of stream `index` under `base`: independent streams from one seed (the
/// seed of batch k of an epoch, of worker w, ...).
pub fn derive_seed(base: u64, index: u64) -> u64 {
    let mut z = base;
    let mut w = splitmix(&mut z) ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
    splitmix(&mut w)
}

impl Rng {
    pub fn seed_from(seed: u64) -> Self {
        let mut z = seed;
        Rng { s: [splitmix(&mut z), splitmix(&mut z), splitmix(&mut z), splitmix(&mut z)] }
    }
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let r = (s[0].wrapping_add(s[3])).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        r
    }
    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Standard normal (Box–Muller; one of the pair is discarded for simplicity).
    pub fn next_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // (0, 1]
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    /// Uniform integer in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        // Multiply-shift: unbiased enough for n far below 2^64.
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// A seeded random stream (PyTorch's `torch.Generator`). Clones share the stream, so a
/// generator handed to a layer and kept by the caller advance together.
#[derive(Clone, Debug)]
pub struct Generator(Arc<Mutex<Rng>>);

impl Generator {
    /// A stream seeded with `seed`: the same seed gives the same numbers.
    pub fn new(seed: u64) -> Self {
        Generator(Arc::new(Mutex::new(Rng::seed_from(seed))))
    }
    /// A stream seeded from the clock.
    pub fn from_entropy() -> Self {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Generator::new(t ^ 0x5DEE_CE66_D1CE_5EED ^ (std::process::id() as u64) << 32)
    }
    /// Restarts the stream from `seed`.
    pub fn manual_seed(&self, seed: u64) {
        *self.lock() = Rng::seed_from(seed);
    }
    /// The next 64 random bits (a seed for a derived stream, a device RNG, ...).
    pub fn next_seed(&self) -> u64 {
        self.lock().next_u64()
    }
    /// The stream's position (to save in a training checkpoint).
    pub fn state(&self) -> [u64; 4] {
        self.lock().s
    }
    /// Puts the stream back at a position from `state`.
    pub fn set_state(&self, s: [u64; 4]) {
        self.lock().s = s;
    }
    /// Runs `f` on the stream.
    pub fn with<R>(&self, f: impl FnOnce(&mut Rng) -> R) -> R {
        f(&mut self.lock())
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, Rng> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The last `manual_seed` of the process: its generation (bumped by every call), its
/// seed, and how many threads of each name have derived a stream from it so far.
struct Seeding {
    generation: u64,
    seed: Option<u64>,
    per_name: HashMap<String, u64>,
}

static SEEDING: Mutex<Option<Seeding>> = Mutex::new(None);

/// A thread's default generator: seeded by the thread itself, or derived from the
/// process's last seed (and re-derived when another `manual_seed` comes).
enum ThreadDefault {
    Own(Generator),
    Derived(Generator, u64),
}

thread_local! {
    static DEFAULT: RefCell<Option<ThreadDefault>> = const { RefCell::new(None) };
    static CURRENT: RefCell<Vec<Generator>> = const { RefCell::new(Vec::new()) };
}

fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01B3))
}

/// This thread's default generator (what `manual_seed` seeds). A thread that called
/// `manual_seed` keeps the stream it seeded. Any other thread draws from a stream
/// derived from the process's most recent `manual_seed`, the thread's name, and how many
/// threads of that name derived one before it since that seed (so threads spawned one
/// after another from a seeded program repeat, run after run); a later `manual_seed`
/// anywhere restarts such threads from the new seed. With nothing ever seeded, the
/// clock seeds.
pub fn default_generator() -> Generator {
    let mut seeding = SEEDING.lock().unwrap_or_else(|e| e.into_inner());
    let seeding = seeding.get_or_insert_with(|| Seeding { generation: 0, seed: None, per_name: HashMap::new() });
    DEFAULT.with(|d| {
        let mut d = d.borrow_mut();
        match &*d {
            Some(ThreadDefault::Own(g)) => return g.clone(),
            Some(ThreadDefault::Derived(g, generation)) if *generation == seeding.generation => return g.clone(),
            _ => {}
        }
        let g = match seeding.seed {
            Some(s) => {
                let name = std::thread::current().name().unwrap_or("").to_string();
                let nth = seeding.per_name.entry(name.clone()).or_insert(0);
                let g = Generator::new(derive_seed(derive_seed(s, name_hash(&name)), *nth));
                *nth += 1;
                g
            }
            None => Generator::from_entropy(),
        };
        *d = Some(ThreadDefault::Derived(g.clone(), seeding.generation));
        g
    })
}

/// Seeds this thread's default generator (as `torch.manual_seed`): randn, rand,
/// parameter init, dropout and shuffling on this thread become repeatable. Defaults are
/// per thread, so tests that each seed their own run side by side undisturbed; threads
/// that never seed derive their streams from the most recent seed (see
/// [`default_generator`]). For streams that nothing else can touch, pass a
/// [`Generator`] or use [`with_generator`].
pub fn manual_seed(seed: u64) {
    {
        let mut seeding = SEEDING.lock().unwrap_or_else(|e| e.into_inner());
        let generation = seeding.as_ref().map_or(0, |s| s.generation) + 1;
        *seeding = Some(Seeding { generation, seed: Some(seed), per_name: HashMap::new() });
    }
    DEFAULT.with(|d| *d.borrow_mut() = Some(ThreadDefault::Own(Generator::new(seed))));
}

/// Runs `f` with `g` as this thread's current generator: every draw that names no
/// generator (init, dropout, shuffling in `fit`, `randn`) comes from `g`. Other threads
/// and the default generator are untouched, so two tests (or two models built on two
/// threads) each get their own repeatable stream.
pub fn with_generator<R>(g: &Generator, f: impl FnOnce() -> R) -> R {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            CURRENT.with(|c| c.borrow_mut().pop());
        }
    }
    CURRENT.with(|c| c.borrow_mut().push(g.clone()));
    let _pop = Pop;
    f()
}

/// The generator draws go to on this thread: the innermost [`with_generator`], else the
/// thread's default.
pub fn current_generator() -> Generator {
    CURRENT.with(|c| c.borrow().last().cloned()).unwrap_or_else(default_generator)
}

/// Runs `f` with the current generator.
pub fn with_rng<R>(f: impl FnOnce(&mut Rng) -> R) -> R {
    current_generator().with(f)
}

/// A fresh 64-bit seed drawn from the current generator (for device RNGs, workers).
pub fn next_seed() -> u64 {
    with_rng(|r| r.next_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_nest_and_restore() {
        let (a, b) = (Generator::new(1), Generator::new(2));
        let outer = with_generator(&a, || {
            let x = next_seed();
            let inner = with_generator(&b, next_seed);
            (x, inner, next_seed())
        });
        assert_eq!(outer.0, Generator::new(1).next_seed());
        assert_eq!(outer.1, Generator::new(2).next_seed());
        let g = Generator::new(1);
        g.next_seed();
        assert_eq!(outer.2, g.next_seed());
    }

    #[test]
    fn derived_streams_differ() {
        let s: std::collections::HashSet<u64> = (0..1000).map(|k| derive_seed(42, k)).collect();
        assert_eq!(s.len(), 1000);
        assert_ne!(derive_seed(1, 0), derive_seed(2, 0));
    }
}
