//! Gradient checks for convolutions, pooling, resampling, padding, masks and scans.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::type_complexity)]
mod common;
use common::{check, rnd, strided};
use lolcore::{manual_seed, Conv2dParams, Device, Pool2dParams, Tensor};

#[test]
fn conv2d_variants() {
    manual_seed(31);
    let x = rnd(&[2, 2, 5, 5], -1.0, 1.0);
    let w = rnd(&[3, 2, 3, 3], -1.0, 1.0);
    check("conv2d", &[x.clone(), w.clone()], |t| t[0].conv2d(&t[1], Conv2dParams::default()));
    check("conv2d stride pad", &[x.clone(), w.clone()], |t| {
        t[0].conv2d(&t[1], Conv2dParams::default().stride(2).padding(1))
    });
    check("conv2d dilation", &[x.clone(), w.clone()], |t| {
        t[0].conv2d(&t[1], Conv2dParams::default().dilation(2).padding(1))
    });
    let wg = rnd(&[4, 1, 2, 2], -1.0, 1.0);
    check("conv2d groups", &[x.clone(), wg], |t| t[0].conv2d(&t[1], Conv2dParams::default().groups(2)));
    check("conv2d 1x1", &[x.clone(), rnd(&[3, 2, 1, 1], -1.0, 1.0)], |t| t[0].conv2d(&t[1], Conv2dParams::default()));
    check("conv2d strided input", &[strided(&x), w.clone()], |t| {
        t[0].conv2d(&t[1], Conv2dParams::default().padding(1))
    });
    check("conv2d with bias", &[x.clone(), w, rnd(&[3], -1.0, 1.0)], |t| {
        t[0].conv2d_bias(&t[1], Some(&t[2]), Conv2dParams::default().padding(1))
    });
}

#[test]
fn pooling() {
    manual_seed(32);
    let x = rnd(&[2, 2, 6, 6], -1.0, 1.0);
    check("max_pool2d", &[x.clone()], |t| t[0].max_pool2d(Pool2dParams::new(2)));
    check("max_pool2d stride pad", &[x.clone()], |t| t[0].max_pool2d(Pool2dParams::new(3).stride(2).padding(1)));
    check("avg_pool2d", &[x.clone()], |t| t[0].avg_pool2d(Pool2dParams::new(2)));
    check("avg_pool2d overlap", &[strided(&x)], |t| t[0].avg_pool2d(Pool2dParams::new(3).stride(2).padding(1)));
}

#[test]
fn normalisation_layers() {
    use lolcore::nn::functional::{batch_norm, layer_norm};
    manual_seed(33);
    let x = rnd(&[3, 2, 2, 2], -1.0, 1.0);
    let (w, b) = (rnd(&[2], 0.5, 1.5), rnd(&[2], -0.5, 0.5));
    check("batch_norm train", &[x.clone(), w.clone(), b.clone()], |t| {
        let (rm, rv) = (t[0].zeros_like_shape2(&[2])?, t[0].zeros_like_shape2(&[2])?);
        batch_norm(&t[0], &rm, &rv, Some(&t[1]), Some(&t[2]), true, 0.1, 1e-5)
    });
    let (rm, rv) = (rnd(&[2], -0.5, 0.5), rnd(&[2], 0.5, 1.5));
    check("batch_norm eval", &[x.clone(), w, b], |t| {
        batch_norm(&t[0], &rm, &rv, Some(&t[1]), Some(&t[2]), false, 0.1, 1e-5)
    });
    let (lw, lb) = (rnd(&[2, 2], 0.5, 1.5), rnd(&[2, 2], -0.5, 0.5));
    check("layer_norm", &[x, lw, lb], |t| layer_norm(&t[0], &[2, 2], Some(&t[1]), Some(&t[2]), 1e-5));
}

trait ZerosLikeShape {
    fn zeros_like_shape2(&self, shape: &[usize]) -> lolcore::Result<lolcore::Tensor>;
}
impl ZerosLikeShape for lolcore::Tensor {
    fn zeros_like_shape2(&self, shape: &[usize]) -> lolcore::Result<lolcore::Tensor> {
        lolcore::Tensor::zeros_dtype(shape, self.dtype(), &self.device())
    }
}

#[test]
fn dropout_with_fixed_mask() {
    // Each evaluation draws its mask from a fresh generator with the same seed, so every
    // finite difference sees the same mask whatever other tests draw meanwhile.
    let a = rnd(&[4, 5], -1.0, 1.0);
    check("dropout", &[a], |x| x[0].dropout_with(0.3, true, &lolcore::Generator::new(9)));
}

#[test]
fn conv1d_and_transposed_convolutions() {
    use lolcore::{Conv1dParams, ConvTranspose1dParams, ConvTranspose2dParams};
    let x1 = rnd(&[2, 4, 7], -1.0, 1.0);
    let w1 = rnd(&[6, 2, 3], -1.0, 1.0);
    let b = rnd(&[6], -1.0, 1.0);
    check("conv1d", &[x1.clone(), w1.clone(), b.clone()], |t| {
        t[0].conv1d_bias(&t[1], Some(&t[2]), Conv1dParams::default().stride(2).padding(1).dilation(2).groups(2))
    });
    check("conv1d same", &[x1.clone(), rnd(&[3, 4, 4], -1.0, 1.0)], |t| {
        t[0].conv1d(&t[1], Conv1dParams::default().padding("same"))
    });
    let x = rnd(&[2, 4, 3, 3], -1.0, 1.0);
    let w = rnd(&[4, 3, 3, 2], -1.0, 1.0);
    check("conv_transpose2d", &[x.clone(), w.clone(), rnd(&[3], -1.0, 1.0)], |t| {
        let p = ConvTranspose2dParams::default().stride((2, 3)).padding((1, 0)).output_padding((1, 2));
        t[0].conv_transpose2d(&t[1], Some(&t[2]), p)
    });
    check("conv_transpose2d groups dilation", &[x.clone(), rnd(&[4, 1, 2, 2], -1.0, 1.0)], |t| {
        let p = ConvTranspose2dParams::default().stride(2).dilation(2).groups(2).padding(1).output_padding(1);
        t[0].conv_transpose2d(&t[1], None, p)
    });
    check("conv_transpose2d strided input", &[strided(&x), w.clone()], |t| {
        t[0].conv_transpose2d(&t[1], None, ConvTranspose2dParams::default().stride(2))
    });
    check("conv_transpose1d", &[rnd(&[2, 3, 5], -1.0, 1.0), rnd(&[3, 2, 4], -1.0, 1.0)], |t| {
        t[0].conv_transpose1d(&t[1], None, ConvTranspose1dParams::default().stride(2).padding(1).output_padding(1))
    });
    check("conv2d rectangular same", &[x, rnd(&[2, 4, 2, 3], -1.0, 1.0)], |t| {
        t[0].conv2d(&t[1], Conv2dParams::default().padding("same").dilation((2, 1)))
    });
}

#[test]
fn pools_with_ceil_mode_dilation_and_adaptive_sizes() {
    use lolcore::Pool1dParams;
    // Spread values, so that no window has a near-tie that finite differences would cross.
    let x = Tensor::arange_step(0.0, 2.0 * 3.0 * 7.0 * 6.0, 1.0, lolcore::DType::F64, &Device::Cpu)
        .unwrap()
        .mul_scalar(0.37)
        .unwrap()
        .sin()
        .unwrap()
        .mul_scalar(3.0)
        .unwrap()
        .reshape(&[2, 3, 7, 6])
        .unwrap();
    check("max_pool2d ceil dilation", &[x.clone()], |t| {
        t[0].max_pool2d(Pool2dParams::new((3, 2)).stride(2).padding((1, 1)).dilation((2, 1)).ceil_mode(true))
    });
    check("avg_pool2d ceil", &[x.clone()], |t| {
        t[0].avg_pool2d(Pool2dParams::new(3).stride(2).padding(1).ceil_mode(true))
    });
    check("adaptive_avg_pool2d", &[x.clone()], |t| t[0].adaptive_avg_pool2d((3, 4)));
    check("adaptive_max_pool2d", &[x.clone()], |t| t[0].adaptive_max_pool2d((4, 5)));
    check("upsample_bilinear2d", &[x.clone()], |t| t[0].upsample_bilinear2d((9, 4), false));
    check("upsample_bilinear2d align_corners", &[x.clone()], |t| t[0].upsample_bilinear2d((9, 11), true));
    check("upsample_nearest2d", &[x.clone()], |t| t[0].upsample_nearest2d((9, 4)));
    let x1 = x.reshape(&[2, 3, 42]).unwrap();
    check("max_pool1d", &[x1.clone()], |t| t[0].max_pool1d(Pool1dParams::new(3).stride(2).padding(1).ceil_mode(true)));
    check("avg_pool1d", &[x1.clone()], |t| t[0].avg_pool1d(Pool1dParams::new(4).stride(3).padding(2)));
    check("adaptive_avg_pool1d", &[x1.clone()], |t| t[0].adaptive_avg_pool1d(5));
    check("adaptive_max_pool1d", &[x1.clone()], |t| t[0].adaptive_max_pool1d(5));
    check("upsample_linear1d", &[x1.clone()], |t| t[0].upsample_linear1d(50, false));
    check("upsample_nearest1d", &[x1], |t| t[0].upsample_nearest1d(50));
}

#[test]
fn padding_masks_and_scans() {
    use lolcore::PadMode;
    let x = rnd(&[2, 3, 4, 5], -1.0, 1.0);
    for mode in [PadMode::Constant(0.5), PadMode::Reflect, PadMode::Replicate, PadMode::Circular] {
        check(&format!("pad {mode:?}"), &[x.clone()], |t| t[0].pad(&[2, 3, 1, 3], mode));
        check(&format!("pad {mode:?} strided"), &[strided(&x)], |t| t[0].pad(&[1, 0, 0, 2], mode));
    }
    let m = Tensor::from_vec(vec![1u8, 0, 0, 1, 1], &[5], &Device::Cpu).unwrap();
    check("masked_fill", &[x.clone()], |t| t[0].masked_fill(&m, -2.0));
    check("tril", &[x.clone()], |t| t[0].tril(-1));
    check("triu", &[x.clone()], |t| t[0].triu(1));
    check("cumsum", &[x.clone()], |t| t[0].cumsum(2));
    check("cumsum blocked", &[rnd(&[2, 150], -1.0, 1.0)], |t| t[0].cumsum(1));
}

#[test]
fn activations_and_normalisations() {
    use lolcore::nn::functional as F;
    // Values away from the kinks (0, ±3, 6), where finite differences are exact.
    let x = rnd(&[3, 4, 5], 0.1, 2.9).mul(&rnd(&[3, 4, 5], -1.0, 1.0).sign().unwrap()).unwrap();
    check("elu", &[x.clone()], |t| t[0].elu(0.7));
    check("selu", &[x.clone()], |t| t[0].selu());
    check("silu", &[x.clone()], |t| t[0].silu());
    check("mish", &[x.clone()], |t| t[0].mish());
    check("softplus", &[x.clone()], |t| t[0].softplus(2.0, 3.0));
    check("relu6", &[x.mul_scalar(2.5).unwrap()], |t| t[0].relu6());
    check("hardsigmoid", &[x.mul_scalar(1.5).unwrap()], |t| t[0].hardsigmoid());
    check("hardswish", &[x.mul_scalar(1.5).unwrap()], |t| t[0].hardswish());
    check("prelu", &[x.clone(), rnd(&[4], 0.1, 0.5)], |t| t[0].prelu(&t[1]));
    check("group_norm", &[x.clone(), rnd(&[4], 0.5, 1.5), rnd(&[4], -1.0, 1.0)], |t| {
        F::group_norm(&t[0], 2, Some(&t[1]), Some(&t[2]), 1e-5)
    });
    check("instance_norm", &[x.clone()], |t| F::instance_norm(&t[0], None, None, 1e-5));
    check("rms_norm", &[x.clone(), rnd(&[5], 0.5, 1.5)], |t| F::rms_norm(&t[0], &[5], Some(&t[1]), None));
}

#[test]
fn scaled_dot_product_attention_fused_and_composed() {
    use lolcore::AttentionParams;
    let (q, k, v) = (rnd(&[2, 2, 5, 4], -1.0, 1.0), rnd(&[2, 2, 6, 4], -1.0, 1.0), rnd(&[2, 2, 6, 3], -1.0, 1.0));
    fn sdpa(p: AttentionParams<'_>) -> impl Fn(&[Tensor]) -> lolcore::Result<Tensor> + '_ {
        move |t: &[Tensor]| t[0].scaled_dot_product_attention(&t[1], &t[2], p)
    }
    let qkv = [q.clone(), k.clone(), v.clone()];
    check("sdpa", &qkv, sdpa(AttentionParams::default()));
    check("sdpa causal scaled", &qkv, sdpa(AttentionParams::default().causal(true).scale(0.7)));
    // A bool mask with a query (row 1) that may attend nothing: zero output, zero gradient.
    let mut keep = vec![1u8; 5 * 6];
    keep[6..12].fill(0);
    keep[3] = 0;
    let keep = Tensor::from_vec(keep, &[5, 6], &Device::Cpu).unwrap();
    check("sdpa bool mask", &qkv, sdpa(AttentionParams::default().attn_mask(&keep)));
    let bias = rnd(&[2, 1, 5, 6], -2.0, 2.0);
    check("sdpa float mask", &qkv, sdpa(AttentionParams::default().attn_mask(&bias)));
    let pad = Tensor::from_vec(vec![0u8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1], &[2, 6], &Device::Cpu).unwrap();
    check("sdpa key padding", &qkv, sdpa(AttentionParams::default().key_padding_mask(&pad)));
    check("sdpa strided", &[strided(&q), strided(&k), v.clone()], sdpa(AttentionParams::default()));
    check("sdpa float mask gradient", &[q.clone(), k.clone(), v.clone(), bias.clone()], |t| {
        t[0].scaled_dot_product_attention(&t[1], &t[2], AttentionParams::default().attn_mask(&t[3]))
    });
    // More query rows than one block of the fused kernel.
    let (q, k, v) = (rnd(&[1, 70, 3], -1.0, 1.0), rnd(&[1, 9, 3], -1.0, 1.0), rnd(&[1, 9, 2], -1.0, 1.0));
    check("sdpa many queries", &[q, k, v], sdpa(AttentionParams::default().causal(true)));
}

#[test]
fn attention_dropout_is_seeded_and_scales() {
    use lolcore::{AttentionParams, Generator};
    let q = rnd(&[1, 4, 8], -1.0, 1.0).to_dtype(lolcore::DType::F32).unwrap();
    let v = Tensor::ones(&[1, 4, 1], &Device::Cpu).unwrap();
    let run = |seed| {
        let g = Generator::new(seed);
        q.scaled_dot_product_attention(&q, &v, AttentionParams::default().dropout(0.5).generator(&g))
            .unwrap()
            .to_vec::<f32>()
            .unwrap()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
    // Without dropout every output is 1 (probabilities sum to 1); with it, kept
    // probabilities are doubled, so outputs spread around 1.
    assert!(run(3).iter().any(|&x| (x - 1.0).abs() > 1e-3));
}
