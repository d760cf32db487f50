//! Creation, read-back, dtypes, views, forward values and error messages.
use lolcore::{bf16, f16, manual_seed, DType, Device, Error, Tensor};

const CPU: Device = Device::Cpu;

#[test]
fn creation_and_readback() {
    let x = Tensor::from_vec(vec![1f32, 2., 3., 4., 5., 6.], &[2, 3], &CPU).unwrap();
    assert_eq!(x.shape(), &[2, 3]);
    assert_eq!((x.rank(), x.numel(), x.dtype()), (2, 6, DType::F32));
    assert_eq!(x.to_vec2::<f32>().unwrap(), vec![vec![1., 2., 3.], vec![4., 5., 6.]]);
    assert_eq!(Tensor::zeros(&[2, 2], &CPU).unwrap().to_vec::<f32>().unwrap(), vec![0.; 4]);
    assert_eq!(Tensor::ones(&[3], &CPU).unwrap().to_vec::<f64>().unwrap(), vec![1.; 3]);
    assert_eq!(Tensor::full(7.5, &[2], &CPU).unwrap().to_vec::<f32>().unwrap(), vec![7.5; 2]);
    assert_eq!(Tensor::arange(0., 5., &CPU).unwrap().to_vec::<f32>().unwrap(), vec![0., 1., 2., 3., 4.]);
    assert_eq!(
        Tensor::arange_step(1., 2., 0.25, DType::F64, &CPU).unwrap().to_vec::<f64>().unwrap(),
        vec![1., 1.25, 1.5, 1.75]
    );
    assert_eq!(Tensor::eye(2, &CPU).unwrap().to_vec::<f32>().unwrap(), vec![1., 0., 0., 1.]);
    assert_eq!(x.zeros_like().unwrap().shape(), &[2, 3]);
    assert_eq!(x.ones_like().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap(), 6.0);
    let labels = Tensor::from_vec(vec![3u32, 1, 4], &[3], &CPU).unwrap();
    assert_eq!(labels.dtype(), DType::U32);
    let l64 = Tensor::from_vec(vec![3i64, -1], &[2], &CPU).unwrap();
    assert_eq!(l64.to_vec::<i64>().unwrap(), vec![3, -1]);
    assert_eq!(Tensor::scalar(2.5f64, &CPU).unwrap().to_scalar::<f64>().unwrap(), 2.5);
}

#[test]
fn random_is_seeded() {
    manual_seed(42);
    let a = Tensor::randn(&[1000], &CPU).unwrap().to_vec::<f32>().unwrap();
    manual_seed(42);
    let b = Tensor::randn(&[1000], &CPU).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(a, b);
    let mean: f32 = a.iter().sum::<f32>() / 1000.0;
    let var: f32 = a.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 1000.0;
    assert!(mean.abs() < 0.1 && (var - 1.0).abs() < 0.15, "mean {mean} var {var}");
    let u = Tensor::rand(&[1000], &CPU).unwrap().to_vec::<f32>().unwrap();
    assert!(u.iter().all(|&v| (0.0..1.0).contains(&v)));
}

#[test]
fn dtype_conversions_including_half() {
    let x = Tensor::from_vec(vec![1.5f32, -2.25, 65504.0, 0.1], &[4], &CPU).unwrap();
    let h = x.to_dtype(DType::F16).unwrap();
    assert_eq!(h.dtype(), DType::F16);
    assert_eq!(h.to_vec::<f16>().unwrap()[0], f16::from_f32(1.5));
    assert_eq!(h.to_dtype(DType::F32).unwrap().to_vec::<f32>().unwrap()[..3], [1.5, -2.25, 65504.0]);
    let b = x.to_dtype(DType::BF16).unwrap();
    assert_eq!(b.to_vec::<bf16>().unwrap()[1], bf16::from_f32(-2.25));
    assert_eq!(x.to_dtype(DType::I64).unwrap().to_vec::<i64>().unwrap(), vec![1, -2, 65504, 0]);
    assert_eq!(x.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap()[3], 0.1f32 as f64);
    // Half tensors are storage on the CPU: arithmetic asks for a conversion.
    let e = h.exp().unwrap_err().to_string();
    assert!(e.contains("exp") && e.contains("f16"), "{e}");
}

#[test]
fn forward_values() {
    let a = Tensor::from_vec(vec![1f32, 2., 3., 4., 5., 6.], &[2, 3], &CPU).unwrap();
    let b = Tensor::from_vec(vec![10f32, 20., 30.], &[3], &CPU).unwrap();
    assert_eq!((&a + &b).unwrap().to_vec::<f32>().unwrap(), vec![11., 22., 33., 14., 25., 36.]);
    assert_eq!(a.sum(0).unwrap().to_vec::<f32>().unwrap(), vec![5., 7., 9.]);
    assert_eq!(a.sum(1).unwrap().to_vec::<f32>().unwrap(), vec![6., 15.]);
    assert_eq!(a.max(1).unwrap().to_vec::<f32>().unwrap(), vec![3., 6.]);
    assert_eq!(a.argmax(0).unwrap().to_vec::<u32>().unwrap(), vec![1, 1, 1]);
    assert_eq!(a.argmin(1).unwrap().to_vec::<u32>().unwrap(), vec![0, 0]);
    assert_eq!(a.mean_all().unwrap().to_scalar::<f32>().unwrap(), 3.5);
    assert_eq!(a.var(1).unwrap().to_vec::<f32>().unwrap(), vec![1., 1.]);
    assert_eq!(a.t().unwrap().to_vec::<f32>().unwrap(), vec![1., 4., 2., 5., 3., 6.]);
    assert_eq!(a.narrow(1, 1, 2).unwrap().to_vec::<f32>().unwrap(), vec![2., 3., 5., 6.]);
    assert_eq!(a.flip(&[1]).unwrap().to_vec::<f32>().unwrap(), vec![3., 2., 1., 6., 5., 4.]);
    assert_eq!(
        a.permute(&[1, 0]).unwrap().contiguous().unwrap().to_vec::<f32>().unwrap(),
        vec![1., 4., 2., 5., 3., 6.]
    );
    let c = Tensor::cat(&[&a, &a], 0).unwrap();
    assert_eq!(c.shape(), &[4, 3]);
    let s = Tensor::stack(&[&b, &b], 0).unwrap();
    assert_eq!(s.shape(), &[2, 3]);
    assert_eq!(a.gt_scalar(3.0).unwrap().to_vec::<u8>().unwrap(), vec![0, 0, 0, 1, 1, 1]);
    let w = a.gt_scalar(3.0).unwrap().where_cond(&a, &a.neg().unwrap()).unwrap();
    assert_eq!(w.to_vec::<f32>().unwrap(), vec![-1., -2., -3., 4., 5., 6.]);
    let sm = a.softmax(-1).unwrap().sum(-1).unwrap().to_vec::<f32>().unwrap();
    assert!(sm.iter().all(|v| (v - 1.0).abs() < 1e-6));
    let m = Tensor::from_vec(vec![4f64, 3., 6., 3.], &[2, 2], &CPU).unwrap();
    assert!((m.det().unwrap().to_scalar::<f64>().unwrap() - (-6.0)).abs() < 1e-12);
    assert_eq!(Tensor::new(&[1f32, 2.]).diag().unwrap().to_vec::<f32>().unwrap(), vec![1., 0., 0., 2.]);
    assert_eq!(a.diag().unwrap().to_vec::<f32>().unwrap(), vec![1., 5.]);
    let ids = Tensor::from_vec(vec![2u32, 0], &[2], &CPU).unwrap();
    assert_eq!(a.index_select(&ids, 1).unwrap().to_vec::<f32>().unwrap(), vec![3., 1., 6., 4.]);
    assert_eq!(a.clamp(2.0, 5.0).unwrap().to_vec::<f32>().unwrap(), vec![2., 2., 3., 4., 5., 5.]);
    // Counting a u8 mask does not wrap at 256.
    let many = Tensor::ones_dtype(&[1000], DType::U8, &CPU).unwrap();
    assert_eq!(many.sum_all().unwrap().to_scalar::<i64>().unwrap(), 1000);
    println!("{a}");
    assert!(format!("{a}").starts_with("tensor([[1.0000, 2.0000, 3.0000]"));
}

fn msg(e: Error) -> String {
    e.to_string()
}

#[test]
fn errors_name_the_op_and_values() {
    let a = Tensor::zeros(&[2, 3], &CPU).unwrap();
    let b = Tensor::zeros(&[4, 2], &CPU).unwrap();
    assert_eq!(msg(a.matmul(&b).unwrap_err()), "matmul: [2, 3] × [4, 2]: inner dims 3 and 4 differ");
    assert!(msg(a.add(&b).unwrap_err()).starts_with("add: shapes [2, 3] and [4, 2] cannot broadcast"));
    assert!(msg(a.reshape(&[4]).unwrap_err()).contains("cannot reshape [2, 3] (6 elements) into [4]"));
    assert!(msg(a.sum(5).unwrap_err()).contains("dim 5 is out of range"));
    assert!(msg(a.narrow(1, 2, 2).unwrap_err()).contains("out of bounds"));
    assert!(msg(a.squeeze(0).unwrap_err()).contains("has size 2, not 1"));
    assert!(
        msg(Tensor::from_vec(vec![1f32; 5], &[2, 3], &CPU).unwrap_err()).contains("5 values do not fill shape [2, 3]")
    );
    let ids = Tensor::from_vec(vec![7u32], &[1], &CPU).unwrap();
    assert!(msg(a.index_select(&ids, 0).unwrap_err()).contains("index 7 is out of range for a dim of size 2"));
    let f64t = Tensor::zeros_dtype(&[2, 3], DType::F64, &CPU).unwrap();
    assert!(msg(a.add(&f64t).unwrap_err()).contains("dtypes f32 and f64 differ"));
    assert!(msg(a.permute(&[0, 0]).unwrap_err()).contains("not a permutation"));
    let x = Tensor::zeros(&[1, 3, 8, 8], &CPU).unwrap();
    let w = Tensor::zeros(&[4, 2, 3, 3], &CPU).unwrap();
    assert!(msg(x.conv2d(&w, Default::default()).unwrap_err())
        .contains("input [1, 3, 8, 8] has 3 channels, weight [4, 2, 3, 3] expects 2"));
    assert!(msg(a.backward().unwrap_err()).contains("needs a scalar"));
    assert!(msg(a.sum_all().unwrap().backward().unwrap_err()).contains("does not require grad"));
    // Without a GPU this returns an error (it must not panic); with one, a device.
    if let Err(e) = Device::cuda(0) {
        assert!(msg(e).contains("cuda:0"));
    }
    assert!(msg(lolcore::cuda::set_cudnn(&CPU, true).unwrap_err()).contains("needs a CUDA device, got cpu"));
    assert!(msg(a.dropout(1.5, true).unwrap_err()).contains("probability"));
    assert!(msg(Tensor::zeros(&[2, 3], &CPU).unwrap().det().unwrap_err()).contains("square"));
}

#[test]
fn graph_is_freed_after_backward_and_retained_on_request() {
    let w = Tensor::ones(&[2], &CPU).unwrap().requires_grad(true);
    let y = w.sqr().unwrap().sum_all().unwrap();
    let g1 = y.backward_retain_graph().unwrap();
    let g2 = y.backward().unwrap();
    assert_eq!(g1.get(&w).unwrap().to_vec::<f32>().unwrap(), g2.get(&w).unwrap().to_vec::<f32>().unwrap());
    assert!(y.backward().unwrap_err().to_string().contains("already freed"));
}

#[test]
fn no_grad_records_nothing_and_detach_stops_gradients() {
    let w = Tensor::ones(&[2], &CPU).unwrap().requires_grad(true);
    let y = lolcore::no_grad(|| w.exp()).unwrap();
    assert!(!y.tracks_grad());
    let z = w.exp().unwrap().detach().mul(&w).unwrap().sum_all().unwrap();
    let g = z.backward().unwrap();
    // d/dw (c · w) with c = exp(w) held constant is c.
    assert!((g.get(&w).unwrap().to_vec::<f32>().unwrap()[0] - 1f32.exp()).abs() < 1e-6);
    // Gradients sum where paths meet: y = w·w + w → 2w + 1.
    let y = w.mul(&w).unwrap().add(&w).unwrap().sum_all().unwrap();
    assert_eq!(y.backward().unwrap().get(&w).unwrap().to_vec::<f32>().unwrap(), vec![3., 3.]);
}
