//! A size-bucketed pool of CPU buffers. A training step allocates the same sizes every
//! step; above glibc's mmap threshold each fresh buffer would be mmap'ed, page-faulted,
//! zeroed and unmapped again (measured on the seed two-layer net: that churn made candle 5× slower than
//! PyTorch). Freed buffers wait here, keyed by exact length, for the next op that needs
//! that size. Contents of a reused buffer are stale: callers overwrite every element.

use half::{bf16, f16};
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

/// Buffers smaller than this go straight back to malloc, which is fast for them.
const MIN_POOLED_BYTES: usize = 16 * 1024;
/// The most bytes the pool holds per element type; beyond this, freed buffers are freed.
const MAX_POOLED_BYTES: usize = 1 << 30;
/// The most free buffers of one size.
const MAX_PER_BUCKET: usize = 32;

pub struct Pool<T> {
    inner: Mutex<Option<PoolInner<T>>>,
}

struct PoolInner<T> {
    buckets: HashMap<usize, Vec<Vec<T>>>,
    bytes: usize,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Pool<T> {
    pub const fn new() -> Self {
        Pool { inner: Mutex::new(None) }
    }
    fn take(&self, len: usize) -> Option<Vec<T>> {
        if len * std::mem::size_of::<T>() < MIN_POOLED_BYTES {
            return None;
        }
        let mut g = self.inner.lock().ok()?;
        let inner = g.as_mut()?;
        let v = inner.buckets.get_mut(&len)?.pop()?;
        inner.bytes -= len * std::mem::size_of::<T>();
        Some(v)
    }
    fn give(&self, v: Vec<T>) {
        let bytes = v.len() * std::mem::size_of::<T>();
        if bytes < MIN_POOLED_BYTES || v.len() != v.capacity() {
            return;
        }
        let Ok(mut g) = self.inner.lock() else { return };
        let inner = g.get_or_insert_with(|| PoolInner { buckets: HashMap::new(), bytes: 0 });
        if inner.bytes + bytes > MAX_POOLED_BYTES {
            return;
        }
        let bucket = inner.buckets.entry(v.len()).or_default();
        if bucket.len() < MAX_PER_BUCKET {
            bucket.push(v);
            inner.bytes += bytes;
        }
    }
    /// Frees every pooled buffer.
    pub fn clear(&self) {
        if let Ok(mut g) = self.inner.lock() {
            *g = None;
        }
    }
    pub fn pooled_bytes(&self) -> usize {
        self.inner.lock().ok().and_then(|g| g.as_ref().map(|i| i.bytes)).unwrap_or(0)
    }
}

/// Element types with a pool of their own.
pub trait PoolElem: Copy + Default + Send + Sync + 'static {
    fn pool() -> &'static Pool<Self>;
}

macro_rules! pool_elem {
    ($t:ty, $name:ident) => {
        static $name: Pool<$t> = Pool::new();
        impl PoolElem for $t {
            fn pool() -> &'static Pool<Self> {
                &$name
            }
        }
    };
}
pool_elem!(f32, POOL_F32);
pool_elem!(f64, POOL_F64);
pool_elem!(f16, POOL_F16);
pool_elem!(bf16, POOL_BF16);
pool_elem!(u8, POOL_U8);
pool_elem!(u32, POOL_U32);
pool_elem!(i64, POOL_I64);

/// A vector of `len` elements with unspecified (stale or default) contents.
pub fn take<T: PoolElem>(len: usize) -> Vec<T> {
    T::pool().take(len).unwrap_or_else(|| vec![T::default(); len])
}

/// A vector of `len` copies of `v`.
pub fn filled<T: PoolElem>(len: usize, v: T) -> Vec<T> {
    match T::pool().take(len) {
        Some(mut b) => {
            b.fill(v);
            b
        }
        None => vec![v; len],
    }
}

/// Frees the pooled buffers of every element type (e.g. after training, to return memory).
pub fn release_all() {
    f32::pool().clear();
    f64::pool().clear();
    f16::pool().clear();
    bf16::pool().clear();
    u8::pool().clear();
    u32::pool().clear();
    i64::pool().clear();
}

/// A buffer that returns to the pool when dropped.
pub struct Buf<T: PoolElem>(Vec<T>);

impl<T: PoolElem> Buf<T> {
    pub fn new(v: Vec<T>) -> Self {
        Buf(v)
    }
    pub fn into_vec(mut self) -> Vec<T> {
        std::mem::take(&mut self.0)
    }
}

impl<T: PoolElem> Drop for Buf<T> {
    fn drop(&mut self) {
        T::pool().give(std::mem::take(&mut self.0));
    }
}

impl<T: PoolElem> Deref for Buf<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: PoolElem> DerefMut for Buf<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

/// Hands a buffer back to the pool.
pub fn recycle<T: PoolElem>(v: Vec<T>) {
    T::pool().give(v)
}
