//! NCCL on one GPU, one rank (a 1-GPU machine cannot host two NCCL ranks): the
//! communicator's collectives, and `DataParallel`'s device buckets reduced through it,
//! against plain backward. Needs a GPU and libnccl; skips (and says so) without them.
//! `cargo test -p lolcore --features nccl --lib dist::nccl_tests`

use lolcore::dist::nccl::{library_present, unique_id, NcclComm};
use lolcore::dist::{DataParallel, DdpOptions, ProcessGroup, ReduceOp};
use lolcore::nn::Module;
use lolcore::{Device, Result, Tensor};
use std::sync::Arc;

/// A job of one rank whose tensor all-reduce is NCCL's.
struct OneRank(NcclComm);

impl ProcessGroup for OneRank {
    fn rank(&self) -> usize {
        0
    }
    fn world_size(&self) -> usize {
        1
    }
    fn backend(&self) -> &'static str {
        "nccl"
    }
    fn all_reduce_f32(&self, _: &mut [f32], _: ReduceOp) -> Result<()> {
        Ok(())
    }
    fn all_reduce_f64(&self, _: &mut [f64], _: ReduceOp) -> Result<()> {
        Ok(())
    }
    fn broadcast_bytes(&self, _: &mut Vec<u8>, _: usize) -> Result<()> {
        Ok(())
    }
    fn all_gather_bytes(&self, mine: &[u8]) -> Result<Vec<Vec<u8>>> {
        Ok(vec![mine.to_vec()])
    }
    fn barrier(&self) -> Result<()> {
        Ok(())
    }
    fn all_reduce(&self, t: &Tensor, op: ReduceOp) -> Result<Tensor> {
        let out = t.deep_copy()?;
        self.0.all_reduce_(&out, op)?;
        Ok(out)
    }
}

#[derive(lolcore::Module)]
struct Net {
    w1: Tensor,
    w2: Tensor,
}

#[test]
fn nccl_collectives_and_device_buckets_on_one_gpu() -> Result<()> {
    let Ok(dev) = Device::cuda(0) else {
        println!("SKIPPED: no CUDA device");
        return Ok(());
    };
    if let Err(e) = library_present() {
        println!("SKIPPED: {e}");
        return Ok(());
    }
    let comm = NcclComm::new(&dev, 0, 1, &unique_id()?)?;
    let t = Tensor::from_vec(vec![1f32, 2., 3.], &[3], &dev)?;
    comm.all_reduce_(&t, ReduceOp::Sum)?;
    assert_eq!(t.to_vec::<f32>()?, vec![1., 2., 3.]);
    comm.all_reduce_(&t, ReduceOp::Mean)?;
    assert_eq!(t.to_vec::<f32>()?, vec![1., 2., 3.]);
    comm.broadcast_(&t, 0)?;
    let g = comm.all_gather(&t)?;
    assert_eq!(g.shape(), &[1, 3]);
    assert_eq!(g.to_vec::<f32>()?, vec![1., 2., 3.]);

    lolcore::manual_seed(3);
    let net = Net {
        w1: Tensor::randn(&[6, 40], &dev)?.requires_grad(true),
        w2: Tensor::randn(&[40, 3], &dev)?.requires_grad(true),
    };
    let x = Tensor::randn(&[8, 6], &dev)?;
    let loss = || x.matmul(&net.w1)?.tanh()?.matmul(&net.w2)?.sqr()?.mean_all();
    let plain = loss()?.backward()?;
    let pg: Arc<dyn ProcessGroup> = Arc::new(OneRank(comm));
    let ddp = DataParallel::new(pg, &net, DdpOptions::default().first_bucket_cap_mb(0.0001))?;
    assert_eq!(ddp.num_buckets(), 2);
    let reduced = ddp.backward(&loss()?)?;
    for p in net.parameters() {
        let missing = || lolcore::Error::msg(format!("no gradient for a parameter of shape {:?}", p.shape()));
        let (r, q) = (reduced.get(&p).ok_or_else(missing)?, plain.get(&p).ok_or_else(missing)?);
        assert_eq!(r.device(), dev);
        assert_eq!(r.to_vec::<f32>()?, q.to_vec::<f32>()?);
    }
    println!("NCCL OK: collectives and {} device buckets on {dev}", ddp.num_buckets());
    Ok(())
}
