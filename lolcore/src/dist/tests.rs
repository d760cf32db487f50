//! Data-parallel training on an in-process group (threads as ranks): the gradient-ready
//! hook, the collectives, the bucketed overlap against one all-reduce after backward,
//! the structure check and the failure behaviour. The same code runs over MPI in the
//! `lol-dist` crate's tests.
use lolcore::dist::{BufferSync, DataParallel, DdpOptions, LocalGroup, ProcessGroup, ReduceOp};
use lolcore::nn::{Forward, Module};
use lolcore::{Device, Gradients, Result, Tensor};
use std::time::{Duration, Instant};

#[derive(lolcore::Module)]
struct Mlp {
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
    #[module(buffer)]
    seen: Tensor,
}

impl Mlp {
    fn new(hidden: usize, seed: u64) -> Result<Self> {
        lolcore::manual_seed(seed);
        let d = Device::Cpu;
        Ok(Mlp {
            w1: Tensor::randn(&[6, hidden], &d)?.requires_grad(true),
            b1: Tensor::randn(&[hidden], &d)?.requires_grad(true),
            w2: Tensor::randn(&[hidden, 3], &d)?.requires_grad(true),
            b2: Tensor::randn(&[3], &d)?.requires_grad(true),
            seen: Tensor::full(seed as f64, &[2], &d)?,
        })
    }
}

impl Forward for Mlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.matmul(&self.w1)?.add(&self.b1)?.tanh()?.matmul(&self.w2)?.add(&self.b2)
    }
}

fn batch(rank: usize, step: usize) -> Result<Tensor> {
    lolcore::manual_seed(1000 + 10 * step as u64 + rank as u64);
    Tensor::randn(&[8, 6], &Device::Cpu)
}

/// The gradient of `p`, or an error naming its shape (a test failure, not a panic).
fn grad<'a>(grads: &'a Gradients, p: &Tensor) -> Result<&'a Tensor> {
    grads.get(p).ok_or_else(|| lolcore::Error::msg(format!("no gradient for a parameter of shape {:?}", p.shape())))
}

fn flat(grads: &Gradients, m: &Mlp) -> Result<Vec<f32>> {
    let mut out = Vec::new();
    for p in m.parameters() {
        out.extend(grad(grads, &p)?.to_vec::<f32>()?);
    }
    Ok(out)
}

const T: Duration = Duration::from_secs(20);

#[test]
fn the_hook_sees_each_leaf_once_when_its_gradient_is_final() -> Result<()> {
    let d = Device::Cpu;
    let w = Tensor::from_vec(vec![1f32, 2.], &[2], &d)?.requires_grad(true);
    let unused = Tensor::ones(&[2], &d)?.requires_grad(true);
    let x = Tensor::from_vec(vec![3f32, 4.], &[2], &d)?;
    let z = Tensor::from_vec(vec![5f32, 6.], &[2], &d)?;
    // w reaches the loss by two paths; `unused` is in a graph the loss does not reach.
    let _ = unused.add(&x)?;
    let loss = w.mul(&x)?.add(&w.mul(&z)?)?.sum_all()?;
    let mut seen = Vec::new();
    let grads = loss.backward_with_hook(&mut |id, g| {
        seen.push((id, g.to_vec::<f32>()?));
        Ok(())
    })?;
    assert_eq!(seen.len(), 1, "one leaf, one call");
    assert_eq!(seen[0].0, w.id());
    assert_eq!(seen[0].1, vec![8., 10.], "the hook sees the sum of both paths, not the first");
    assert_eq!(grad(&grads, &w)?.to_vec::<f32>()?, vec![8., 10.]);
    assert!(grads.get(&unused).is_none());

    // The same gradients as a plain backward, for a network.
    let m = Mlp::new(5, 3)?;
    let xb = batch(0, 0)?;
    let plain = m.forward(&xb)?.sqr()?.mean_all()?.backward()?;
    let mut count = 0;
    let hooked = m.forward(&xb)?.sqr()?.mean_all()?.backward_with_hook(&mut |_, _| {
        count += 1;
        Ok(())
    })?;
    assert_eq!(count, 4);
    assert_eq!(flat(&plain, &m)?, flat(&hooked, &m)?);

    // A root that is itself a leaf.
    let s = Tensor::full(2.0, &[1], &d)?.requires_grad(true);
    let mut fired = 0;
    s.backward_with_hook(&mut |_, _| {
        fired += 1;
        Ok(())
    })?;
    assert_eq!(fired, 1);
    Ok(())
}

#[test]
fn collectives_of_the_local_group() -> Result<()> {
    let results = LocalGroup::run(3, T, |pg| {
        let r = pg.rank() as f32;
        let mut v = vec![r, 10. * r];
        pg.all_reduce_f32(&mut v, ReduceOp::Sum)?;
        assert_eq!(v, vec![3., 30.]);
        let mut m = vec![r as f64];
        pg.all_reduce_f64(&mut m, ReduceOp::Mean)?;
        assert_eq!(m, vec![1.0]);
        let mut b = if pg.rank() == 2 { vec![7u8, 8, 9] } else { vec![] };
        pg.broadcast_bytes(&mut b, 2)?;
        assert_eq!(b, vec![7, 8, 9]);
        let g = pg.all_gather_bytes(&[pg.rank() as u8; 2])?;
        assert_eq!(g, vec![vec![0, 0], vec![1, 1], vec![2, 2]]);
        pg.barrier()?;
        let t = Tensor::full(r as f64, &[2, 2], &Device::Cpu)?;
        assert_eq!(pg.all_reduce(&t, ReduceOp::Mean)?.to_vec::<f32>()?, vec![1.0; 4]);
        let rows = Tensor::full(r as f64, &[pg.rank() + 1, 2], &Device::Cpu)?;
        let all = pg.all_gather(&rows)?;
        assert_eq!(all.shape(), &[6, 2]);
        assert_eq!(all.to_vec::<f32>()?, vec![0., 0., 1., 1., 1., 1., 2., 2., 2., 2., 2., 2.]);
        let dst = Tensor::full(r as f64, &[3], &Device::Cpu)?;
        pg.broadcast_(&dst, 1)?;
        assert_eq!(dst.to_vec::<f32>()?, vec![1.0; 3]);
        let work = pg.all_reduce_async(vec![1.0, r])?;
        assert_eq!(work.wait()?, vec![3.0, 3.0]);
        Ok(())
    });
    for r in results {
        r?;
    }
    Ok(())
}

/// Per-rank gradients with a plain backward, averaged by hand in rank order.
fn reference_gradients(world: usize, step: usize) -> Result<Vec<f32>> {
    let m = Mlp::new(33, 5)?;
    let mut sum: Vec<f32> = Vec::new();
    for rank in 0..world {
        let g = flat(&m.forward(&batch(rank, step)?)?.sqr()?.mean_all()?.backward()?, &m)?;
        if sum.is_empty() {
            sum = g;
        } else {
            sum.iter_mut().zip(g).for_each(|(s, x)| *s += x);
        }
    }
    Ok(sum.into_iter().map(|x| x / world as f32).collect())
}

#[test]
fn bucketed_overlap_gives_the_gradients_of_one_all_reduce_after_backward() -> Result<()> {
    let expect = reference_gradients(2, 0)?;
    let run = |opts: DdpOptions| -> Result<Vec<(Vec<f32>, usize, usize)>> {
        LocalGroup::run(2, T, |pg| {
            // Different seeds per rank: DataParallel::new must give both rank 0's weights.
            let m = Mlp::new(33, if pg.rank() == 0 { 5 } else { 99 })?;
            let ddp = DataParallel::new(pg.clone(), &m, opts.clone())?;
            let g = ddp.backward(&m.forward(&batch(pg.rank(), 0)?)?.sqr()?.mean_all()?)?;
            Ok((flat(&g, &m)?, ddp.num_buckets(), ddp.buckets_started_during_backward()))
        })
        .into_iter()
        .collect()
    };
    // ~1 KB buckets: w2 (33×3) alone fills one, so several buckets travel during backward.
    let small = run(DdpOptions::default().first_bucket_cap_mb(0.0002).bucket_cap_mb(0.001))?;
    let single = run(DdpOptions::default().overlap(false))?;
    // Buckets kept as tensors (the CUDA/NCCL path), reduced by the tensor all-reduce.
    let tensors = run(DdpOptions { device_buckets: true, ..DdpOptions::default().bucket_cap_mb(0.001) })?;
    assert!(small[0].1 >= 3, "{} buckets", small[0].1);
    assert!(small[0].2 >= 1, "no bucket started before backward ended");
    assert_eq!(single[0].1, 1);
    assert_eq!(single[0].2, 0);
    for r in 0..2 {
        assert_eq!(small[r].0, expect, "rank {r}: bucketed overlap");
        assert_eq!(single[r].0, expect, "rank {r}: one all-reduce after backward");
        assert_eq!(tensors[r].0, expect, "rank {r}: buckets as tensors");
    }
    Ok(())
}

#[test]
fn training_keeps_the_ranks_equal_and_buffers_follow_the_option() -> Result<()> {
    for sync in [BufferSync::Broadcast, BufferSync::Average, BufferSync::PerRank] {
        let out = LocalGroup::run(2, T, |pg| {
            let m = Mlp::new(8, 1 + pg.rank() as u64)?;
            let ddp = DataParallel::new(pg.clone(), &m, DdpOptions::default().buffers(sync))?;
            for step in 0..3 {
                // Each rank moves its buffer differently, as BatchNorm statistics do.
                m.seen.copy_from(&m.seen.add_scalar(1.0 + pg.rank() as f64)?)?;
                let g = ddp.backward(&m.forward(&batch(pg.rank(), step)?)?.sqr()?.mean_all()?)?;
                for p in m.parameters() {
                    p.copy_from(&p.sub(&grad(&g, &p)?.mul_scalar(0.1)?)?)?;
                }
            }
            let mut w: Vec<f32> = Vec::new();
            for p in m.parameters() {
                w.extend(p.to_vec::<f32>()?);
            }
            Ok((w, m.seen.to_vec::<f32>()?[0]))
        });
        let out: Vec<(Vec<f32>, f32)> = out.into_iter().collect::<Result<_>>()?;
        assert_eq!(out[0].0, out[1].0, "{sync:?}: weights differ between ranks");
        // Both start from rank 0's buffer (1.0): +1 per step on rank 0, +2 on rank 1.
        let expect = match sync {
            BufferSync::Broadcast => (4.0, 4.0),
            BufferSync::Average => (5.5, 5.5),
            BufferSync::PerRank => (4.0, 7.0),
        };
        assert_eq!((out[0].1, out[1].1), expect, "{sync:?}");
    }
    Ok(())
}

#[test]
fn a_different_model_on_one_rank_is_named_on_every_rank() {
    let out = LocalGroup::run(2, T, |pg| {
        let m = Mlp::new(if pg.rank() == 1 { 16 } else { 8 }, 1)?;
        DataParallel::new(pg.clone(), &m, DdpOptions::default()).map(|_| ())
    });
    for (r, res) in out.iter().enumerate() {
        let msg = res.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.contains("rank 1 has parameter `w1` [6, 16] f32 where rank 0 has parameter `w1` [6, 8] f32"),
            "rank {r}: {msg}"
        );
    }
}

#[test]
fn a_failing_rank_stops_the_others_at_once_and_a_missing_one_within_the_timeout() {
    let started = Instant::now();
    let out = LocalGroup::run(2, Duration::from_secs(60), |pg| {
        let m = Mlp::new(8, 1)?;
        let ddp = DataParallel::new(pg.clone(), &m, DdpOptions::default())?;
        for step in 0..5 {
            if pg.rank() == 1 && step == 2 {
                return Err(lolcore::Error::msg("boom at step 2"));
            }
            ddp.backward(&m.forward(&batch(pg.rank(), step)?)?.sqr()?.mean_all()?)?;
        }
        Ok(())
    });
    let msg = out[0].as_ref().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("rank 1 failed: boom at step 2"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());

    let started = Instant::now();
    let out = LocalGroup::run(2, Duration::from_millis(500), |pg| {
        if pg.rank() == 1 {
            std::thread::sleep(Duration::from_secs(3)); // stuck, then late
        }
        pg.barrier()
    });
    let msg = out[0].as_ref().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("did not complete within 0.5 s: rank(s) [1] never joined"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn all_reduce_gradients_matches_backward() -> Result<()> {
    let expect = reference_gradients(2, 1)?;
    let out = LocalGroup::run(2, T, |pg| {
        let m = Mlp::new(33, 5)?;
        let ddp = DataParallel::new(pg.clone(), &m, DdpOptions::default())?;
        let local = m.forward(&batch(pg.rank(), 1)?)?.sqr()?.mean_all()?.backward()?;
        flat(&ddp.all_reduce_gradients(&local)?, &m)
    });
    for r in out {
        assert_eq!(r?, expect);
    }
    Ok(())
}

#[test]
fn a_parameter_no_rank_used_gets_no_gradient_and_one_rank_used_gets_its_share() -> Result<()> {
    let out = LocalGroup::run(2, T, |pg| {
        let d = Device::Cpu;
        let m = Mlp::new(4, 1)?;
        let everyone = Tensor::ones(&[3], &d)?.requires_grad(true);
        let rank_one_only = Tensor::ones(&[2], &d)?.requires_grad(true);
        let nobody = Tensor::ones(&[5], &d)?.requires_grad(true);
        #[derive(lolcore::Module)]
        struct Three {
            a: Tensor,
            b: Tensor,
            c: Tensor,
        }
        let three = Three { a: everyone.clone(), b: rank_one_only.clone(), c: nobody.clone() };
        for device_buckets in [false, true] {
            let ddp = DataParallel::new(pg.clone(), &three, DdpOptions { device_buckets, ..DdpOptions::default() })?;
            let mut loss = everyone.sum_all()?;
            if pg.rank() == 1 {
                loss = loss.add(&rank_one_only.mul_scalar(4.0)?.sum_all()?)?;
            }
            let g = ddp.backward(&loss)?;
            assert_eq!(grad(&g, &everyone)?.to_vec::<f32>()?, vec![1.0; 3]);
            assert_eq!(grad(&g, &rank_one_only)?.to_vec::<f32>()?, vec![2.0; 2], "rank 1's 4 over 2 ranks");
            assert!(g.get(&nobody).is_none(), "an unused parameter got a gradient");
        }
        let _ = m;
        Ok(())
    });
    for r in out {
        r?;
    }
    Ok(())
}
