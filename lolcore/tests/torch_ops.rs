//! PyTorch parity for the step-2 ops: outputs and gradients of the cases in
//! `tests/fixtures/make_op_fixtures.py` (which writes the reference values) match to 1e-4.

use lolcore::safetensors::SafeTensors;
use lolcore::{
    AttentionParams, Conv1dParams, Conv2dParams, ConvTranspose1dParams, ConvTranspose2dParams, Device, PadMode,
    Padding, Pool1dParams, Pool2dParams, Result, Tensor,
};

type Op = fn(&[Tensor]) -> Result<Tensor>;

const CASES: &[(&str, Op)] = &[
    ("pad_constant", |t| t[0].pad(&[1, 2, 0, 3], PadMode::Constant(0.5))),
    ("pad_reflect_1d", |t| t[0].pad(&[2, 4], PadMode::Reflect)),
    ("pad_reflect_2d", |t| t[0].pad(&[1, 2, 3, 1], PadMode::Reflect)),
    ("pad_replicate", |t| t[0].pad(&[2, 1, 1, 3], PadMode::Replicate)),
    ("pad_circular", |t| t[0].pad(&[2, 1, 1, 3], PadMode::Circular)),
    ("conv2d_rect", |t| {
        let p = Conv2dParams::default().stride((2, 1)).padding((1, 0)).dilation((1, 2)).groups(2);
        t[0].conv2d_bias(&t[1], Some(&t[2]), p)
    }),
    ("conv2d_same", |t| t[0].conv2d(&t[1], Conv2dParams::default().padding("same").dilation((1, 2)))),
    ("conv2d_valid", |t| t[0].conv2d(&t[1], Conv2dParams::default().padding(Padding::Valid))),
    ("conv1d", |t| {
        t[0].conv1d_bias(&t[1], Some(&t[2]), Conv1dParams::default().stride(2).padding(1).dilation(2).groups(2))
    }),
    ("conv1d_same", |t| t[0].conv1d(&t[1], Conv1dParams::default().padding("same"))),
    ("conv_transpose2d", |t| {
        let p = ConvTranspose2dParams::default().stride((2, 3)).padding((1, 2)).output_padding((1, 2));
        t[0].conv_transpose2d(&t[1], Some(&t[2]), p)
    }),
    ("conv_transpose2d_groups", |t| {
        let p = ConvTranspose2dParams::default().stride(2).padding(1).output_padding(1).groups(2).dilation(2);
        t[0].conv_transpose2d(&t[1], None, p)
    }),
    ("conv_transpose1d", |t| {
        let p = ConvTranspose1dParams::default().stride(2).padding(1).output_padding(1);
        t[0].conv_transpose1d(&t[1], Some(&t[2]), p)
    }),
    ("max_pool2d_ceil", |t| t[0].max_pool2d(Pool2dParams::new((3, 2)).stride(2).padding(1).ceil_mode(true))),
    ("max_pool2d_dilated", |t| t[0].max_pool2d(Pool2dParams::new(3).stride(1).padding(1).dilation(2))),
    ("avg_pool2d_ceil", |t| t[0].avg_pool2d(Pool2dParams::new(3).stride(2).padding(1).ceil_mode(true))),
    ("max_pool1d", |t| t[0].max_pool1d(Pool1dParams::new(3).stride(2).padding(1).ceil_mode(true))),
    ("avg_pool1d", |t| t[0].avg_pool1d(Pool1dParams::new(4).stride(3).padding(2).ceil_mode(true))),
    ("adaptive_avg_pool2d", |t| t[0].adaptive_avg_pool2d((3, 4))),
    ("adaptive_max_pool2d", |t| t[0].adaptive_max_pool2d((4, 5))),
    ("adaptive_avg_pool1d", |t| t[0].adaptive_avg_pool1d(4)),
    ("adaptive_max_pool1d", |t| t[0].adaptive_max_pool1d(3)),
    ("upsample_nearest2d", |t| t[0].upsample_nearest2d((7, 9))),
    ("upsample_nearest1d", |t| t[0].upsample_nearest1d(8)),
    ("upsample_bilinear2d", |t| t[0].upsample_bilinear2d((7, 9), false)),
    ("upsample_bilinear2d_ac", |t| t[0].upsample_bilinear2d((7, 9), true)),
    ("upsample_linear1d", |t| t[0].upsample_linear1d(8, false)),
    ("masked_fill", |t| t[0].masked_fill(&t[1], -2.5)),
    ("tril", |t| t[0].tril(-1)),
    ("triu", |t| t[0].triu(1)),
    ("cumsum_blocks", |t| t[0].cumsum(1)),
    ("cumsum_last", |t| t[0].cumsum(-1)),
    ("logsumexp", |t| t[0].logsumexp(1)),
    ("sdpa", |t| t[0].scaled_dot_product_attention(&t[1], &t[2], AttentionParams::default())),
    ("sdpa_bool_mask", |t| {
        t[0].scaled_dot_product_attention(&t[1], &t[2], AttentionParams::default().attn_mask(&t[3]))
    }),
    ("sdpa_float_mask", |t| {
        t[0].scaled_dot_product_attention(&t[1], &t[2], AttentionParams::default().attn_mask(&t[3]))
    }),
    ("sdpa_causal_scaled", |t| {
        t[0].scaled_dot_product_attention(&t[1], &t[2], AttentionParams::default().causal(true).scale(0.3))
    }),
    ("sdpa_key_padding", |t| {
        t[0].scaled_dot_product_attention(&t[1], &t[2], AttentionParams::default().key_padding_mask(&t[3]))
    }),
    ("sdpa_long", |t| t[0].scaled_dot_product_attention(&t[1], &t[2], AttentionParams::default())),
];

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    a.sub(b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap()
}

#[test]
fn outputs_and_gradients_match_pytorch() {
    run_cases(&Device::Cpu);
}

/// The same cases on the GPU: CUDA parity with PyTorch, and so with the CPU.
#[test]
fn outputs_and_gradients_match_pytorch_cuda() {
    match Device::cuda(0) {
        Ok(dev) => run_cases(&dev),
        Err(e) => eprintln!("no GPU: {e}"),
    }
}

fn run_cases(dev: &Device) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/torch/ops.safetensors");
    let f = SafeTensors::open(path).unwrap();
    let dev = *dev;
    let names = f.names();
    let mut failures = Vec::new();
    for (name, op) in CASES {
        let inputs: Vec<Tensor> = (0..)
            .map_while(|i| f.tensor(&format!("{name}.in{i}"), &dev).ok())
            .map(|t| if t.dtype().is_float() { t.requires_grad(true) } else { t })
            .collect();
        assert!(!inputs.is_empty(), "{name}: no inputs in the fixture file");
        let want = f.tensor(&format!("{name}.out"), &dev).unwrap();
        let y = op(&inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
        if y.shape() != want.shape() {
            failures.push(format!("{name} on {dev:?}: shape {:?}, PyTorch {:?}", y.shape(), want.shape()));
            continue;
        }
        let d = max_diff(&y, &want);
        if d > 1e-4 {
            failures.push(format!("{name}: output differs by {d}"));
        }
        let gout = f.tensor(&format!("{name}.gout"), &dev).unwrap();
        let grads = y.mul(&gout).unwrap().sum_all().unwrap().backward().unwrap();
        for (i, x) in inputs.iter().enumerate() {
            let key = format!("{name}.grad{i}");
            if !names.contains(&key.as_str()) {
                continue;
            }
            let want = f.tensor(&key, &dev).unwrap();
            match grads.get(x) {
                Some(g) => {
                    let d = max_diff(g, &want);
                    if d > 1e-4 {
                        failures.push(format!("{name}: gradient of input {i} differs by {d}"));
                    }
                }
                None => failures.push(format!("{name}: no gradient for input {i}")),
            }
        }
    }
    assert!(failures.is_empty(), "differences from PyTorch on {dev:?}:\n{}", failures.join("\n"));
    assert_eq!(
        CASES.len() * 3,
        names.iter().filter(|n| n.ends_with(".out") || n.ends_with(".gout") || n.ends_with(".in0")).count()
    );
}
