//! Which samples each rank reads: PyTorch's `DistributedSampler` rule. Every rank
//! shuffles the full index list with the same seed, pads it to a multiple of the world
//! size by repeating its start, and keeps every `world`-th index from its rank on. All
//! ranks then run the same number of steps, and with a per-rank batch `b` the ranks'
//! k-th batches together are exactly the single-process k-th batch of size `b·world`.

/// This rank's share of `order` (already shuffled alike on every rank).
pub fn shard<T: Copy>(order: &[T], rank: usize, world: usize) -> Vec<T> {
    if world <= 1 || order.is_empty() {
        return order.to_vec();
    }
    let total = order.len().div_ceil(world) * world;
    (rank..total).step_by(world).map(|i| order[i % order.len()]).collect()
}

/// How many samples each rank gets from `n` (the padded share).
pub fn shard_len(n: usize, world: usize) -> usize {
    if world <= 1 {
        n
    } else {
        n.div_ceil(world)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_order_and_pad_from_the_start() {
        let order = [7, 3, 9, 1, 4];
        assert_eq!(shard(&order, 0, 2), vec![7, 9, 4]);
        assert_eq!(shard(&order, 1, 2), vec![3, 1, 7]);
        assert_eq!(shard_len(5, 2), 3);
        assert_eq!(shard(&order, 0, 1), order.to_vec());
    }
}
