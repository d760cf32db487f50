//! The table of every lolcore op with a generator of random valid arguments. A new op
//! fails `the_table_lists_every_op` until it has a row here.

use super::R;
use lolcore::nn::functional as F;
use lolcore::{
    AttentionParams, Conv1dParams, Conv2dParams, ConvTranspose1dParams, ConvTranspose2dParams, DType, Device,
    Generator, PadMode, Pool1dParams, Pool2dParams, Result, Tensor,
};

/// One input: float values in `[lo, hi)` (`writable` for in-place destinations, which
/// may not be broadcast views), or integer indices below `bound`.
pub enum Arg {
    Float { shape: Vec<usize>, lo: f64, hi: f64, writable: bool },
    Index { shape: Vec<usize>, bound: usize, dtype: DType },
}

pub type OpFn = Box<dyn Fn(&[Tensor]) -> Result<Tensor>>;

/// Inputs and the op applied to them; `in_place` ops have their inputs compared after.
pub struct Case {
    pub args: Vec<Arg>,
    pub f: OpFn,
    pub in_place: bool,
}

pub struct Spec {
    pub name: &'static str,
    pub gen: fn(&mut R) -> Case,
}

fn fl(shape: &[usize]) -> Arg {
    Arg::Float { shape: shape.to_vec(), lo: -1.0, hi: 1.0, writable: false }
}
fn pos(shape: &[usize]) -> Arg {
    Arg::Float { shape: shape.to_vec(), lo: 0.5, hi: 2.0, writable: false }
}
fn dest(shape: &[usize]) -> Arg {
    Arg::Float { shape: shape.to_vec(), lo: -1.0, hi: 1.0, writable: true }
}
fn ids(shape: &[usize], bound: usize, r: &mut R) -> Arg {
    Arg::Index { shape: shape.to_vec(), bound, dtype: r.pick(&[DType::U32, DType::I64]) }
}
fn mask(shape: &[usize]) -> Arg {
    Arg::Index { shape: shape.to_vec(), bound: 2, dtype: DType::U8 }
}

fn case(args: Vec<Arg>, f: impl Fn(&[Tensor]) -> Result<Tensor> + 'static) -> Case {
    Case { args, f: Box::new(f), in_place: false }
}
fn in_place(args: Vec<Arg>, f: impl Fn(&[Tensor]) -> Result<Tensor> + 'static) -> Case {
    Case { args, f: Box::new(f), in_place: true }
}

/// A shape that broadcasts to `s`: a suffix of it with some dims set to 1.
fn bcast(r: &mut R, s: &[usize]) -> Vec<usize> {
    let drop = r.below(s.len() + 1);
    s[drop..].iter().map(|&d| if r.below(3) == 0 { 1 } else { d }).collect()
}

fn unary(r: &mut R, f: fn(&Tensor) -> Result<Tensor>) -> Case {
    let s = r.shape(0, 4);
    case(vec![fl(&s)], move |t| f(&t[0]))
}
fn unary_pos(r: &mut R, f: fn(&Tensor) -> Result<Tensor>) -> Case {
    let s = r.shape(0, 4);
    case(vec![pos(&s)], move |t| f(&t[0]))
}
fn binary(r: &mut R, f: fn(&Tensor, &Tensor) -> Result<Tensor>) -> Case {
    let s = r.shape(0, 4);
    let b = bcast(r, &s);
    if r.coin() {
        case(vec![fl(&s), fl(&b)], move |t| f(&t[0], &t[1]))
    } else {
        case(vec![fl(&b), fl(&s)], move |t| f(&t[0], &t[1]))
    }
}
fn compare(r: &mut R, f: fn(&Tensor, &Tensor) -> Result<Tensor>) -> Case {
    let s = r.shape(0, 4);
    let b = bcast(r, &s);
    // Compare against a rounded copy so that equal values occur.
    case(vec![fl(&s), fl(&b)], move |t| f(&t[0].mul_scalar(2.0)?.round()?, &t[1].mul_scalar(2.0)?.round()?))
}
fn compare_scalar(r: &mut R, f: fn(&Tensor, f64) -> Result<Tensor>) -> Case {
    let s = r.shape(0, 4);
    let v = r.pick(&[-0.5, 0.0, 0.5, 1.0]);
    case(vec![fl(&s)], move |t| f(&t[0].mul_scalar(2.0)?.round()?.mul_scalar(0.5)?, v))
}
/// A rank ≥ `min` shape and a dim of it.
fn shape_dim(r: &mut R, min: usize) -> (Vec<usize>, usize) {
    let s = r.shape(min.max(1), 4);
    let d = r.below(s.len());
    (s, d)
}
fn reduce_dim(r: &mut R, f: fn(&Tensor, usize) -> Result<Tensor>) -> Case {
    let (s, d) = shape_dim(r, 1);
    case(vec![fl(&s)], move |t| f(&t[0], d))
}
fn dims_subset(r: &mut R, rank: usize) -> Vec<usize> {
    (0..rank).filter(|_| r.coin()).collect()
}
fn conv_case(r: &mut R, bias: bool, f: fn(&Tensor, &Tensor, Option<&Tensor>, Conv2dParams) -> Result<Tensor>) -> Case {
    let g = r.pick(&[1, 1, 2]);
    let (c, o) = (g * r.range(1, 2), g * r.range(1, 2));
    let (kh, kw) = (r.range(1, 3), r.range(1, 3));
    let (dh, dw) = (r.range(1, 2), r.range(1, 2));
    let same = r.below(4) == 0;
    let (sh, sw) = if same { (1, 1) } else { (r.range(1, 2), r.range(1, 2)) };
    let (sph, spw) = (dh * (kh - 1) + 1, dw * (kw - 1) + 1);
    let (h, w) = (r.range(sph.max(2), sph + 3), r.range(spw.max(2), spw + 3));
    let n = r.range(1, 2);
    let p = Conv2dParams::default().groups(g).stride((sh, sw)).dilation((dh, dw));
    let p = if same { p.padding("same") } else { p.padding((r.range(0, 1), r.range(0, 1))) };
    let mut args = vec![fl(&[n, c, h, w]), fl(&[o, c / g, kh, kw])];
    if bias {
        args.push(fl(&[o]));
    }
    case(args, move |t| f(&t[0], &t[1], t.get(2), p))
}
fn conv1d_case(r: &mut R, bias: bool) -> Case {
    let g = r.pick(&[1, 1, 2]);
    let (c, o, k, d) = (g * r.range(1, 2), g * r.range(1, 2), r.range(1, 3), r.range(1, 2));
    let span = d * (k - 1) + 1;
    let l = r.range(span.max(2), span + 4);
    let p = Conv1dParams::default().groups(g).stride(r.range(1, 2)).dilation(d).padding(r.range(0, 1));
    let mut args = vec![fl(&[r.range(1, 2), c, l]), fl(&[o, c / g, k])];
    if bias {
        args.push(fl(&[o]));
    }
    case(args, move |t| if bias { t[0].conv1d_bias(&t[1], t.get(2), p) } else { t[0].conv1d(&t[1], p) })
}
fn conv_transpose_case(r: &mut R, two_d: bool) -> Case {
    let g = r.pick(&[1, 1, 2]);
    let (c, o, k, s, d) = (g * r.range(1, 2), g * r.range(1, 2), r.range(1, 3), r.range(1, 2), r.range(1, 2));
    let pad = r.range(0, (d * (k - 1)) / 2);
    let out_pad = r.range(0, s.max(d) - 1);
    let (n, len) = (r.range(1, 2), r.range(1, 4));
    let bias = r.coin();
    let mut args = vec![];
    if two_d {
        let p = ConvTranspose2dParams::default().groups(g).stride(s).dilation(d).padding(pad).output_padding(out_pad);
        args.extend([fl(&[n, c, len, r.range(1, 4)]), fl(&[c, o / g, k, r.range(1, 3)])]);
        if bias {
            args.push(fl(&[o]));
        }
        case(args, move |t| t[0].conv_transpose2d(&t[1], t.get(2), p))
    } else {
        let p = ConvTranspose1dParams::default().groups(g).stride(s).dilation(d).padding(pad).output_padding(out_pad);
        args.extend([fl(&[n, c, len]), fl(&[c, o / g, k])]);
        if bias {
            args.push(fl(&[o]));
        }
        case(args, move |t| t[0].conv_transpose1d(&t[1], t.get(2), p))
    }
}
fn pool_case(r: &mut R, f: fn(&Tensor, Pool2dParams) -> Result<Tensor>) -> Case {
    pool_case_with(r, false, f)
}
fn pool_case_with(r: &mut R, dilated: bool, f: fn(&Tensor, Pool2dParams) -> Result<Tensor>) -> Case {
    let (kh, kw) = (r.range(1, 3), r.range(1, 3));
    let d = if dilated { (r.range(1, 2), r.range(1, 2)) } else { (1, 1) };
    let p = Pool2dParams::new((kh, kw))
        .stride((r.range(1, 3), r.range(1, 3)))
        .padding((r.range(0, kh / 2), r.range(0, kw / 2)))
        .dilation(d)
        .ceil_mode(r.coin());
    let (h, w) = (r.range(d.0 * (kh - 1) + 1, kh + 4), r.range(d.1 * (kw - 1) + 1, kw + 4));
    let s = [r.range(1, 2), r.range(1, 3), h.max(d.0 * (kh - 1) + 1), w.max(d.1 * (kw - 1) + 1)];
    case(vec![fl(&s)], move |t| f(&t[0], p))
}
fn pool1d_case(r: &mut R, dilated: bool, f: fn(&Tensor, Pool1dParams) -> Result<Tensor>) -> Case {
    let k = r.range(1, 3);
    let d = if dilated { r.range(1, 2) } else { 1 };
    let p = Pool1dParams::new(k).stride(r.range(1, 3)).padding(r.range(0, k / 2)).dilation(d).ceil_mode(r.coin());
    let s = [r.range(1, 2), r.range(1, 3), r.range(d * (k - 1) + 1, d * (k - 1) + 5)];
    case(vec![fl(&s)], move |t| f(&t[0], p))
}
fn spatial(r: &mut R, rank: usize) -> Vec<usize> {
    let mut s = vec![r.range(1, 2), r.range(1, 3)];
    s.extend((2..rank).map(|_| r.range(1, 6)));
    s
}
fn square(r: &mut R, f: fn(&Tensor) -> Result<Tensor>) -> Case {
    let n = r.range(1, 4);
    let mut s = r.shape(0, 2);
    s.extend([n, n]);
    // Diagonally dominant: never singular.
    case(vec![fl(&s)], move |t| {
        let eye = Tensor::eye(n, &Device::Cpu)?.to_dtype(t[0].dtype())?.to_device(&t[0].device())?;
        f(&t[0].add(&eye.mul_scalar(n as f64 + 1.0)?)?)
    })
}
fn readback(t: &Tensor, v: Vec<f64>) -> Result<Tensor> {
    let n = v.len();
    Tensor::from_vec(v, &[n], &Device::Cpu).map(|x| x.reshape(t.shape()).unwrap_or(x))
}
fn dropout_gen() -> Generator {
    Generator::new(7)
}

pub const SPECS: &[Spec] = &[
    // Elementwise, one input.
    Spec { name: "neg", gen: |r| unary(r, |x| x.neg()) },
    Spec { name: "exp", gen: |r| unary(r, |x| x.exp()) },
    Spec { name: "log", gen: |r| unary_pos(r, |x| x.log()) },
    Spec { name: "sqrt", gen: |r| unary_pos(r, |x| x.sqrt()) },
    Spec { name: "abs", gen: |r| unary(r, |x| x.abs()) },
    Spec { name: "sin", gen: |r| unary(r, |x| x.sin()) },
    Spec { name: "cos", gen: |r| unary(r, |x| x.cos()) },
    Spec { name: "tanh", gen: |r| unary(r, |x| x.tanh()) },
    Spec { name: "sigmoid", gen: |r| unary(r, |x| x.sigmoid()) },
    Spec { name: "relu", gen: |r| unary(r, |x| x.relu()) },
    Spec { name: "gelu", gen: |r| unary(r, |x| x.gelu()) },
    Spec { name: "elu", gen: |r| unary(r, |x| x.elu(0.7)) },
    Spec { name: "selu", gen: |r| unary(r, |x| x.selu()) },
    Spec { name: "silu", gen: |r| unary(r, |x| x.silu()) },
    Spec { name: "mish", gen: |r| unary(r, |x| x.mish()) },
    Spec { name: "softplus", gen: |r| unary(r, |x| x.mul_scalar(30.0)?.softplus(0.5, 10.0)) },
    Spec { name: "relu6", gen: |r| unary(r, |x| x.mul_scalar(8.0)?.relu6()) },
    Spec { name: "hardsigmoid", gen: |r| unary(r, |x| x.mul_scalar(5.0)?.hardsigmoid()) },
    Spec { name: "hardswish", gen: |r| unary(r, |x| x.mul_scalar(5.0)?.hardswish()) },
    Spec {
        name: "prelu",
        gen: |r| {
            let s = r.shape(2, 4);
            let w = if r.coin() { 1 } else { s[1] };
            case(vec![fl(&s), fl(&[w])], |t| t[0].prelu(&t[1]))
        },
    },
    Spec { name: "leaky_relu", gen: |r| unary(r, |x| x.leaky_relu(0.1)) },
    Spec { name: "sqr", gen: |r| unary(r, |x| x.sqr()) },
    Spec { name: "recip", gen: |r| unary_pos(r, |x| x.recip()) },
    Spec { name: "erf", gen: |r| unary(r, |x| x.erf()) },
    Spec { name: "sign", gen: |r| unary(r, |x| x.sign()) },
    Spec { name: "floor", gen: |r| unary(r, |x| x.mul_scalar(3.0)?.floor()) },
    Spec { name: "ceil", gen: |r| unary(r, |x| x.mul_scalar(3.0)?.ceil()) },
    Spec { name: "round", gen: |r| unary(r, |x| x.mul_scalar(3.0)?.round()) },
    Spec { name: "powf", gen: |r| unary_pos(r, |x| x.powf(2.5)) },
    Spec { name: "clamp", gen: |r| unary(r, |x| x.clamp(-0.4, 0.6)) },
    Spec { name: "affine", gen: |r| unary(r, |x| x.affine(-1.5, 0.25)) },
    Spec { name: "add_scalar", gen: |r| unary(r, |x| x.add_scalar(0.5)) },
    Spec { name: "sub_scalar", gen: |r| unary(r, |x| x.sub_scalar(0.5)) },
    Spec { name: "mul_scalar", gen: |r| unary(r, |x| x.mul_scalar(-2.0)) },
    Spec { name: "div_scalar", gen: |r| unary(r, |x| x.div_scalar(4.0)) },
    // Elementwise, two inputs with broadcasting.
    Spec { name: "add", gen: |r| binary(r, |a, b| a.add(b)) },
    Spec { name: "sub", gen: |r| binary(r, |a, b| a.sub(b)) },
    Spec { name: "mul", gen: |r| binary(r, |a, b| a.mul(b)) },
    Spec {
        name: "div",
        gen: |r| {
            let s = r.shape(0, 4);
            let b = bcast(r, &s);
            case(vec![fl(&s), pos(&b)], |t| t[0].div(&t[1]))
        },
    },
    Spec { name: "maximum", gen: |r| binary(r, |a, b| a.maximum(b)) },
    Spec { name: "minimum", gen: |r| binary(r, |a, b| a.minimum(b)) },
    Spec {
        name: "pow",
        gen: |r| {
            let s = r.shape(0, 4);
            let b = bcast(r, &s);
            case(vec![pos(&s), fl(&b)], |t| t[0].pow(&t[1]))
        },
    },
    // Comparisons and selection.
    Spec { name: "eq", gen: |r| compare(r, |a, b| a.eq(b)) },
    Spec { name: "ne", gen: |r| compare(r, |a, b| a.ne(b)) },
    Spec { name: "lt", gen: |r| compare(r, |a, b| a.lt(b)) },
    Spec { name: "le", gen: |r| compare(r, |a, b| a.le(b)) },
    Spec { name: "gt", gen: |r| compare(r, |a, b| a.gt(b)) },
    Spec { name: "ge", gen: |r| compare(r, |a, b| a.ge(b)) },
    Spec { name: "eq_scalar", gen: |r| compare_scalar(r, |a, v| a.eq_scalar(v)) },
    Spec { name: "ne_scalar", gen: |r| compare_scalar(r, |a, v| a.ne_scalar(v)) },
    Spec { name: "lt_scalar", gen: |r| compare_scalar(r, |a, v| a.lt_scalar(v)) },
    Spec { name: "le_scalar", gen: |r| compare_scalar(r, |a, v| a.le_scalar(v)) },
    Spec { name: "gt_scalar", gen: |r| compare_scalar(r, |a, v| a.gt_scalar(v)) },
    Spec { name: "ge_scalar", gen: |r| compare_scalar(r, |a, v| a.ge_scalar(v)) },
    Spec {
        name: "where_cond",
        gen: |r| {
            let s = r.shape(0, 4);
            let (a, b) = (bcast(r, &s), bcast(r, &s));
            case(vec![mask(&s), fl(&a), fl(&b)], |t| t[0].where_cond(&t[1], &t[2]))
        },
    },
    // Joining and rearranging.
    Spec {
        name: "cat",
        gen: |r| {
            let (s, d) = shape_dim(r, 1);
            let k = r.range(2, 3);
            let args = (0..k)
                .map(|_| {
                    let mut si = s.clone();
                    si[d] = r.range(1, 3);
                    fl(&si)
                })
                .collect();
            case(args, move |t| Tensor::cat(t, d))
        },
    },
    Spec {
        name: "stack",
        gen: |r| {
            let s = r.shape(0, 3);
            let d = r.below(s.len() + 1);
            case(vec![fl(&s), fl(&s), fl(&s)], move |t| Tensor::stack(t, d))
        },
    },
    Spec {
        name: "flip",
        gen: |r| {
            let s = r.shape(1, 4);
            let dims = dims_subset(r, s.len());
            case(vec![fl(&s)], move |t| t[0].flip(&dims))
        },
    },
    Spec {
        name: "repeat",
        gen: |r| {
            let s = r.shape(0, 3);
            let reps: Vec<usize> = s.iter().map(|_| r.range(1, 3)).collect();
            case(vec![fl(&s)], move |t| t[0].repeat(&reps))
        },
    },
    Spec {
        name: "one_hot",
        gen: |r| {
            let s = r.shape(0, 3);
            let c = r.range(1, 5);
            case(vec![ids(&s, c, r)], move |t| t[0].one_hot(c))
        },
    },
    // Convolution and pooling.
    Spec { name: "conv2d", gen: |r| conv_case(r, false, |x, w, _, p| x.conv2d(w, p)) },
    Spec { name: "conv2d_bias", gen: |r| conv_case(r, true, |x, w, b, p| x.conv2d_bias(w, b, p)) },
    Spec { name: "max_pool2d", gen: |r| pool_case_with(r, true, |x, p| x.max_pool2d(p)) },
    Spec { name: "avg_pool2d", gen: |r| pool_case(r, |x, p| x.avg_pool2d(p)) },
    Spec { name: "conv1d", gen: |r| conv1d_case(r, false) },
    Spec { name: "conv1d_bias", gen: |r| conv1d_case(r, true) },
    Spec { name: "conv_transpose2d", gen: |r| conv_transpose_case(r, true) },
    Spec { name: "conv_transpose1d", gen: |r| conv_transpose_case(r, false) },
    Spec { name: "max_pool1d", gen: |r| pool1d_case(r, true, |x, p| x.max_pool1d(p)) },
    Spec { name: "avg_pool1d", gen: |r| pool1d_case(r, false, |x, p| x.avg_pool1d(p)) },
    Spec {
        name: "adaptive_avg_pool1d",
        gen: |r| {
            let (s, o) = (spatial(r, 3), r.range(1, 5));
            case(vec![fl(&s)], move |t| t[0].adaptive_avg_pool1d(o))
        },
    },
    Spec {
        name: "adaptive_avg_pool2d",
        gen: |r| {
            let (s, o) = (spatial(r, 4), (r.range(1, 5), r.range(1, 5)));
            case(vec![fl(&s)], move |t| t[0].adaptive_avg_pool2d(o))
        },
    },
    Spec {
        name: "adaptive_max_pool1d",
        gen: |r| {
            let (s, o) = (spatial(r, 3), r.range(1, 5));
            case(vec![fl(&s)], move |t| t[0].adaptive_max_pool1d(o))
        },
    },
    Spec {
        name: "adaptive_max_pool2d",
        gen: |r| {
            let (s, o) = (spatial(r, 4), (r.range(1, 5), r.range(1, 5)));
            case(vec![fl(&s)], move |t| t[0].adaptive_max_pool2d(o))
        },
    },
    Spec {
        name: "upsample_nearest1d",
        gen: |r| {
            let (s, o) = (spatial(r, 3), r.range(1, 9));
            case(vec![fl(&s)], move |t| t[0].upsample_nearest1d(o))
        },
    },
    Spec {
        name: "upsample_nearest2d",
        gen: |r| {
            let (s, o) = (spatial(r, 4), (r.range(1, 9), r.range(1, 9)));
            case(vec![fl(&s)], move |t| t[0].upsample_nearest2d(o))
        },
    },
    Spec {
        name: "upsample_linear1d",
        gen: |r| {
            let (s, o, ac) = (spatial(r, 3), r.range(1, 9), r.coin());
            case(vec![fl(&s)], move |t| t[0].upsample_linear1d(o, ac))
        },
    },
    Spec {
        name: "upsample_bilinear2d",
        gen: |r| {
            let (s, o, ac) = (spatial(r, 4), (r.range(1, 9), r.range(1, 9)), r.coin());
            case(vec![fl(&s)], move |t| t[0].upsample_bilinear2d(o, ac))
        },
    },
    Spec {
        name: "pad",
        gen: |r| {
            let s = r.shape(1, 4);
            let dims = r.range(1, s.len().min(3));
            let mode = r.pick(&[PadMode::Constant(0.25), PadMode::Reflect, PadMode::Replicate, PadMode::Circular]);
            let mut pads = Vec::new();
            for i in 0..dims {
                let n = s[s.len() - 1 - i];
                let most = match mode {
                    PadMode::Reflect => n - 1,
                    PadMode::Circular => n,
                    _ => 3,
                };
                pads.extend([r.range(0, most), r.range(0, most)]);
            }
            case(vec![fl(&s)], move |t| t[0].pad(&pads, mode))
        },
    },
    Spec {
        name: "scaled_dot_product_attention",
        gen: |r| {
            let mut batch = r.shape(0, 2);
            batch.truncate(2);
            let (l, s, e, ev) = (r.range(1, 5), r.range(1, 5), r.range(1, 4), r.range(1, 4));
            let at = |a: usize, b: usize| batch.iter().copied().chain([a, b]).collect::<Vec<usize>>();
            let (qs, ks, vs) = (at(l, e), at(s, e), at(s, ev));
            let causal = r.coin();
            match r.below(3) {
                0 => case(vec![fl(&qs), fl(&ks), fl(&vs)], move |t| {
                    t[0].scaled_dot_product_attention(&t[1], &t[2], AttentionParams::default().causal(causal))
                }),
                1 => case(vec![fl(&qs), fl(&ks), fl(&vs), mask(&[l, s])], move |t| {
                    let p = AttentionParams::default().attn_mask(&t[3]).causal(causal);
                    t[0].scaled_dot_product_attention(&t[1], &t[2], p)
                }),
                _ => case(vec![fl(&qs), fl(&ks), fl(&vs), fl(&[l, s])], |t| {
                    t[0].scaled_dot_product_attention(
                        &t[1],
                        &t[2],
                        AttentionParams::default().attn_mask(&t[3].detach()),
                    )
                }),
            }
        },
    },
    Spec {
        name: "attention_weights",
        gen: |r| {
            let batch = vec![r.range(1, 2); r.range(0, 2)];
            let (l, s, e) = (r.range(1, 5), r.range(1, 5), r.range(1, 4));
            let at = |a: usize, b: usize| batch.iter().copied().chain([a, b]).collect::<Vec<usize>>();
            let causal = r.coin();
            case(vec![fl(&at(l, e)), fl(&at(s, e)), mask(&[l, s])], move |t| {
                t[0].attention_weights(&t[1], AttentionParams::default().attn_mask(&t[2]).causal(causal))
            })
        },
    },
    // Masks and scans.
    Spec {
        name: "masked_fill",
        gen: |r| {
            let s = r.shape(0, 4);
            let m = bcast(r, &s);
            case(vec![fl(&s), mask(&m)], |t| t[0].masked_fill(&t[1], -3.0))
        },
    },
    Spec {
        name: "tril",
        gen: |r| {
            let s = r.shape(2, 4);
            let k = r.range(0, 4) as i64 - 2;
            case(vec![fl(&s)], move |t| t[0].tril(k))
        },
    },
    Spec {
        name: "triu",
        gen: |r| {
            let s = r.shape(2, 4);
            let k = r.range(0, 4) as i64 - 2;
            case(vec![fl(&s)], move |t| t[0].triu(k))
        },
    },
    Spec {
        name: "cumsum",
        gen: |r| {
            let (mut s, d) = shape_dim(r, 1);
            // Now and then a long dim, so the blocked scan runs.
            if r.below(4) == 0 {
                s[d] = r.range(60, 140);
            }
            case(vec![fl(&s)], move |t| t[0].cumsum(d))
        },
    },
    // Conversions and in-place writes.
    Spec { name: "to_dtype", gen: |r| unary(r, |x| x.to_dtype(DType::F32)) },
    Spec { name: "to_device", gen: |r| unary(r, |x| x.to_device(&Device::Cpu)) },
    Spec {
        name: "copy_from",
        gen: |r| {
            let s = r.shape(0, 4);
            let b = bcast(r, &s);
            in_place(vec![dest(&s), fl(&b)], |t| {
                t[0].copy_from(&t[1])?;
                Ok(t[0].clone())
            })
        },
    },
    Spec {
        name: "add_scaled_",
        gen: |r| {
            let s = r.shape(0, 4);
            let b = bcast(r, &s);
            let alpha = r.f64(-2.0, 2.0);
            in_place(vec![dest(&s), fl(&b)], move |t| {
                t[0].add_scaled_(&t[1], alpha)?;
                Ok(t[0].clone())
            })
        },
    },
    Spec { name: "dropout", gen: |r| unary(r, |x| lolcore::with_generator(&dropout_gen(), || x.dropout(0.4, true))) },
    Spec { name: "dropout_with", gen: |r| unary(r, |x| x.dropout_with(0.4, true, &dropout_gen())) },
    // Indexing.
    Spec {
        name: "index_select",
        gen: |r| {
            let (s, d) = shape_dim(r, 1);
            let n = r.range(1, 5);
            case(vec![fl(&s), ids(&[n], s[d], r)], move |t| t[0].index_select(&t[1], d))
        },
    },
    Spec {
        name: "gather",
        gen: |r| {
            let (s, d) = shape_dim(r, 1);
            let is: Vec<usize> =
                s.iter().enumerate().map(|(i, &n)| if i == d { r.range(1, 4) } else { r.range(1, n) }).collect();
            case(vec![fl(&s), ids(&is, s[d], r)], move |t| t[0].gather(&t[1], d))
        },
    },
    Spec {
        name: "scatter_add_into",
        gen: |r| {
            let (s, d) = shape_dim(r, 1);
            let out: Vec<usize> =
                s.iter().enumerate().map(|(i, &n)| if i == d { r.range(1, 4) } else { n + r.below(2) }).collect();
            let bound = out[d];
            case(vec![fl(&s), ids(&s, bound, r)], move |t| t[0].scatter_add_into(&t[1], d, &out))
        },
    },
    Spec {
        name: "scatter_add",
        gen: |r| {
            let (s, d) = shape_dim(r, 1);
            let src: Vec<usize> = s.iter().enumerate().map(|(i, &n)| if i == d { r.range(1, 4) } else { n }).collect();
            case(vec![fl(&s), ids(&src, s[d], r), fl(&src)], move |t| t[0].scatter_add(&t[1], &t[2], d))
        },
    },
    Spec {
        name: "embedding",
        gen: |r| {
            let (v, dim) = (r.range(1, 5), r.range(1, 4));
            let s = r.shape(1, 2);
            case(vec![fl(&[v, dim]), ids(&s, v, r)], |t| t[0].embedding(&t[1]))
        },
    },
    // Linear algebra.
    Spec { name: "det", gen: |r| square(r, |x| x.det()) },
    Spec { name: "inverse", gen: |r| square(r, |x| x.inverse()) },
    Spec {
        name: "matmul",
        gen: |r| {
            let (m, k, n) = (r.range(1, 4), r.range(1, 4), r.range(1, 4));
            let batch = r.shape(0, 2);
            let bb = bcast(r, &batch);
            let (mut a, mut b) = (batch.clone(), bb);
            a.extend([m, k]);
            b.extend([k, n]);
            match r.below(4) {
                0 => case(vec![fl(&[k]), fl(&[k])], |t| t[0].matmul(&t[1])),
                1 => case(vec![fl(&a), fl(&[k])], |t| t[0].matmul(&t[1])),
                2 => case(vec![fl(&[k]), fl(&b)], |t| t[0].matmul(&t[1])),
                _ => case(vec![fl(&a), fl(&b)], |t| t[0].matmul(&t[1])),
            }
        },
    },
    // Reductions.
    Spec {
        name: "sum_dims_keepdim",
        gen: |r| {
            let s = r.shape(0, 4);
            let d = dims_subset(r, s.len());
            case(vec![fl(&s)], move |t| t[0].sum_dims_keepdim(&d))
        },
    },
    Spec {
        name: "sum_dims",
        gen: |r| {
            let s = r.shape(0, 4);
            let d = dims_subset(r, s.len());
            case(vec![fl(&s)], move |t| t[0].sum_dims(&d))
        },
    },
    Spec { name: "sum", gen: |r| reduce_dim(r, |x, d| x.sum(d)) },
    Spec { name: "sum_keepdim", gen: |r| reduce_dim(r, |x, d| x.sum_keepdim(d)) },
    Spec { name: "sum_all", gen: |r| unary(r, |x| x.sum_all()) },
    Spec { name: "mean", gen: |r| reduce_dim(r, |x, d| x.mean(d)) },
    Spec { name: "mean_keepdim", gen: |r| reduce_dim(r, |x, d| x.mean_keepdim(d)) },
    Spec {
        name: "mean_dims_keepdim",
        gen: |r| {
            let s = r.shape(0, 4);
            let d = dims_subset(r, s.len());
            case(vec![fl(&s)], move |t| t[0].mean_dims_keepdim(&d))
        },
    },
    Spec { name: "mean_all", gen: |r| unary(r, |x| x.mean_all()) },
    Spec { name: "var", gen: |r| reduce_dim(r, |x, d| x.var(d)) },
    Spec { name: "var_keepdim", gen: |r| reduce_dim(r, |x, d| x.var_keepdim(d)) },
    Spec { name: "max", gen: |r| reduce_dim(r, |x, d| x.max(d)) },
    Spec { name: "max_keepdim", gen: |r| reduce_dim(r, |x, d| x.max_keepdim(d)) },
    Spec { name: "min", gen: |r| reduce_dim(r, |x, d| x.min(d)) },
    Spec { name: "min_keepdim", gen: |r| reduce_dim(r, |x, d| x.min_keepdim(d)) },
    Spec { name: "max_all", gen: |r| unary(r, |x| x.max_all()) },
    Spec { name: "min_all", gen: |r| unary(r, |x| x.min_all()) },
    Spec { name: "argmax", gen: |r| reduce_dim(r, |x, d| x.argmax(d)) },
    Spec { name: "argmax_keepdim", gen: |r| reduce_dim(r, |x, d| x.argmax_keepdim(d)) },
    Spec { name: "argmin", gen: |r| reduce_dim(r, |x, d| x.argmin(d)) },
    Spec { name: "argmin_keepdim", gen: |r| reduce_dim(r, |x, d| x.argmin_keepdim(d)) },
    Spec { name: "softmax", gen: |r| reduce_dim(r, |x, d| x.softmax(d)) },
    Spec { name: "log_softmax", gen: |r| reduce_dim(r, |x, d| x.log_softmax(d)) },
    Spec { name: "logsumexp", gen: |r| reduce_dim(r, |x, d| x.logsumexp(d)) },
    // Views.
    Spec {
        name: "reshape",
        gen: |r| {
            let s = r.shape(0, 4);
            let n: usize = s.iter().product();
            let to = match r.below(3) {
                0 => vec![n],
                1 => s.iter().rev().copied().collect(),
                _ => vec![1, n, 1],
            };
            case(vec![fl(&s)], move |t| t[0].reshape(&to))
        },
    },
    Spec {
        name: "flatten",
        gen: |r| {
            let s = r.shape(1, 4);
            let a = r.below(s.len());
            let b = r.range(a, s.len() - 1);
            case(vec![fl(&s)], move |t| t[0].flatten(a, b))
        },
    },
    Spec { name: "flatten_all", gen: |r| unary(r, |x| x.flatten_all()) },
    Spec { name: "contiguous", gen: |r| unary(r, |x| x.contiguous()) },
    Spec { name: "deep_copy", gen: |r| unary(r, |x| x.deep_copy()) },
    Spec {
        name: "transpose",
        gen: |r| {
            let s = r.shape(1, 4);
            let (a, b) = (r.below(s.len()), r.below(s.len()));
            case(vec![fl(&s)], move |t| t[0].transpose(a, b)?.exp())
        },
    },
    Spec {
        name: "t",
        gen: |r| {
            let s = r.shape(2, 4);
            case(vec![fl(&s)], |t| t[0].t()?.mul_scalar(1.5))
        },
    },
    Spec {
        name: "permute",
        gen: |r| {
            let s = r.shape(0, 4);
            let mut p: Vec<usize> = (0..s.len()).collect();
            r.0.shuffle(&mut p);
            case(vec![fl(&s)], move |t| t[0].permute(&p)?.contiguous())
        },
    },
    Spec {
        name: "narrow",
        gen: |r| {
            let (s, d) = shape_dim(r, 1);
            let start = r.below(s[d]);
            let len = r.range(0, s[d] - start);
            case(vec![fl(&s)], move |t| t[0].narrow(d, start, len)?.sqr())
        },
    },
    Spec {
        name: "squeeze",
        gen: |r| {
            let (mut s, d) = shape_dim(r, 1);
            s[d] = 1;
            case(vec![fl(&s)], move |t| t[0].squeeze(d)?.exp())
        },
    },
    Spec {
        name: "unsqueeze",
        gen: |r| {
            let s = r.shape(0, 3);
            let d = r.below(s.len() + 1);
            case(vec![fl(&s)], move |t| t[0].unsqueeze(d)?.exp())
        },
    },
    Spec {
        name: "broadcast_as",
        gen: |r| {
            let s = r.shape(0, 4);
            let b = bcast(r, &s);
            case(vec![fl(&b)], move |t| t[0].broadcast_as(&s)?.exp())
        },
    },
    Spec {
        name: "expand",
        gen: |r| {
            let s = r.shape(0, 4);
            let b = bcast(r, &s);
            case(vec![fl(&b)], move |t| t[0].expand(&s)?.contiguous())
        },
    },
    Spec {
        name: "diag",
        gen: |r| {
            let s = r.shape(1, 3);
            case(vec![fl(&s)], |t| t[0].diag()?.exp())
        },
    },
    // Reading values back.
    Spec { name: "to_vec", gen: |r| unary(r, |x| readback(x, x.to_vec::<f64>()?)) },
    Spec {
        name: "to_vec2",
        gen: |r| {
            let s = r.shape(2, 2);
            case(vec![fl(&s)], |t| readback(&t[0], t[0].to_vec2::<f64>()?.concat()))
        },
    },
    Spec {
        name: "to_scalar",
        gen: |r| {
            let s: Vec<usize> = r.shape(0, 3).iter().map(|_| 1).collect();
            case(vec![fl(&s)], |t| readback(&t[0], vec![t[0].to_scalar::<f64>()?]))
        },
    },
    // The functional forms of the layers.
    Spec {
        name: "functional::linear",
        gen: |r| {
            let (i, o) = (r.range(1, 4), r.range(1, 4));
            let mut s = r.shape(0, 2);
            s.push(i);
            if r.coin() {
                case(vec![fl(&s), fl(&[o, i]), fl(&[o])], |t| F::linear(&t[0], &t[1], Some(&t[2])))
            } else {
                case(vec![fl(&s), fl(&[o, i])], |t| F::linear(&t[0], &t[1], None))
            }
        },
    },
    Spec { name: "functional::conv2d", gen: |r| conv_case(r, true, F::conv2d) },
    Spec { name: "functional::max_pool2d", gen: |r| pool_case(r, F::max_pool2d) },
    Spec { name: "functional::avg_pool2d", gen: |r| pool_case(r, F::avg_pool2d) },
    Spec {
        name: "functional::global_avg_pool2d",
        gen: |r| {
            let s = [r.range(1, 2), r.range(1, 3), r.range(1, 4), r.range(1, 4)];
            case(vec![fl(&s)], |t| F::global_avg_pool2d(&t[0]))
        },
    },
    Spec {
        name: "functional::dropout",
        gen: |r| unary(r, |x| lolcore::with_generator(&dropout_gen(), || F::dropout(x, 0.4, true))),
    },
    Spec {
        name: "functional::embedding",
        gen: |r| {
            let (v, dim) = (r.range(1, 5), r.range(1, 4));
            let s = r.shape(1, 2);
            case(vec![ids(&s, v, r), fl(&[v, dim])], |t| F::embedding(&t[0], &t[1]))
        },
    },
    Spec {
        name: "functional::batch_norm",
        gen: |r| {
            let c = r.range(1, 3);
            let mut s = vec![r.range(2, 3), c];
            s.extend(r.shape(0, 2));
            let training = r.coin();
            let args = vec![
                fl(&s),
                dest(&[c]),
                Arg::Float { shape: vec![c], lo: 0.5, hi: 2.0, writable: true },
                fl(&[c]),
                fl(&[c]),
            ];
            in_place(args, move |t| F::batch_norm(&t[0], &t[1], &t[2], Some(&t[3]), Some(&t[4]), training, 0.1, 1e-5))
        },
    },
    Spec {
        name: "functional::layer_norm",
        gen: |r| {
            let s = r.shape(1, 4);
            let k = r.range(1, s.len());
            let norm = s[s.len() - k..].to_vec();
            case(vec![fl(&s), fl(&norm), fl(&norm)], move |t| {
                F::layer_norm(&t[0], &norm, Some(&t[1]), Some(&t[2]), 1e-5)
            })
        },
    },
    Spec {
        name: "functional::group_norm",
        gen: |r| {
            let g = r.range(1, 2);
            let mut s = vec![r.range(1, 2), g * r.range(1, 2)];
            s.extend((0..r.range(0, 2)).map(|_| r.range(1, 3)));
            let c = s[1];
            case(vec![fl(&s), fl(&[c]), fl(&[c])], move |t| F::group_norm(&t[0], g, Some(&t[1]), Some(&t[2]), 1e-5))
        },
    },
    Spec {
        name: "functional::instance_norm",
        gen: |r| {
            let rank = r.range(3, 4);
            let s = spatial(r, rank);
            let c = s[1];
            case(vec![fl(&s), fl(&[c]), fl(&[c])], |t| F::instance_norm(&t[0], Some(&t[1]), Some(&t[2]), 1e-5))
        },
    },
    Spec {
        name: "functional::rms_norm",
        gen: |r| {
            let s = r.shape(1, 4);
            let k = r.range(1, s.len());
            let norm = s[s.len() - k..].to_vec();
            case(vec![fl(&s), fl(&norm)], move |t| F::rms_norm(&t[0], &norm, Some(&t[1]), Some(1e-5)))
        },
    },
    Spec { name: "functional::relu", gen: |r| unary(r, F::relu) },
    Spec { name: "functional::sigmoid", gen: |r| unary(r, F::sigmoid) },
    Spec { name: "functional::tanh", gen: |r| unary(r, F::tanh) },
    Spec { name: "functional::gelu", gen: |r| unary(r, F::gelu) },
    Spec { name: "functional::leaky_relu", gen: |r| unary(r, |x| F::leaky_relu(x, 0.2)) },
    Spec { name: "functional::softmax", gen: |r| reduce_dim(r, F::softmax) },
    Spec { name: "functional::log_softmax", gen: |r| reduce_dim(r, F::log_softmax) },
];
