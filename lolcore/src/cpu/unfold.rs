//! im2col and col2im for 2-D convolution: receptive fields as the columns of a matrix
//! whose rows are (channel, ky, kx), a chunk of images side by side so the product runs
//! as one GEMM. Rows are filled with slice copies where the stride allows, and padding
//! is handled per row range rather than per element.

use super::gemm::GemmElem;
use crate::ops::conv_params::ConvGeom;

/// The output columns `lo..hi` whose input column `ow·stride + off` lies in `0..len`.
fn valid_range(out_len: usize, stride: usize, off: isize, len: usize) -> (usize, usize) {
    // ow·s + off ≥ 0  ⇔  ow ≥ ceil(−off / s);   ow·s + off ≤ len − 1.
    let lo = if off >= 0 { 0 } else { ((-off) as usize).div_ceil(stride) };
    let hi_excl = if (len as isize) - 1 - off < 0 { 0 } else { ((len as isize - 1 - off) as usize) / stride + 1 };
    (lo.min(out_len), hi_excl.min(out_len).max(lo.min(out_len)))
}

/// Fills row `r = (c, ky, kx)` of the unfolded matrix for images `b0..b0+nb` of `x`
/// (`[n, C, H, W]`): image b's receptive fields land at `row[b·ho·wo..(b+1)·ho·wo]`.
pub fn im2col_row<T: GemmElem>(x: &[T], g: &ConvGeom, b0: usize, nb: usize, r: usize, row: &mut [T]) {
    let (sh, sw) = g.p.stride;
    let (ph, pw) = g.pad;
    let (dh, dw) = g.p.dilation;
    let hw = g.ho * g.wo;
    let zero = T::zero();
    let (c, i, j) = (r / (g.kh * g.kw), (r / g.kw) % g.kh, r % g.kw);
    let off = (j * dw) as isize - pw as isize;
    let (lo, hi) = valid_range(g.wo, sw, off, g.w);
    for b in 0..nb {
        let img = (b0 + b) * g.c + c;
        let plane = &x[img * g.h * g.w..(img + 1) * g.h * g.w];
        let seg = &mut row[b * hw..(b + 1) * hw];
        for oh in 0..g.ho {
            let dst = &mut seg[oh * g.wo..(oh + 1) * g.wo];
            let ih = (oh * sh + i * dh) as isize - ph as isize;
            if ih < 0 || ih >= g.h as isize || lo >= hi {
                dst.fill(zero);
                continue;
            }
            let src = &plane[ih as usize * g.w..(ih as usize + 1) * g.w];
            dst[..lo].fill(zero);
            dst[hi..].fill(zero);
            let start = ((lo * sw) as isize + off) as usize;
            if sw == 1 {
                dst[lo..hi].copy_from_slice(&src[start..start + (hi - lo)]);
            } else {
                for (k, d) in dst[lo..hi].iter_mut().enumerate() {
                    *d = src[start + k * sw];
                }
            }
        }
    }
}

/// Folds columns back (the adjoint of `im2col`), adding into channels `c0..c0+cg` of
/// `dx [C, H, W]`.
pub fn col2im<T: GemmElem>(cols: &[T], g: &ConvGeom, c0: usize, cg: usize, dx: &mut [T], ld: usize, col0: usize) {
    let (sh, sw) = g.p.stride;
    let (ph, pw) = g.pad;
    let (dh, dw) = g.p.dilation;
    let hw = g.ho * g.wo;
    for c in 0..cg {
        let plane = &mut dx[(c0 + c) * g.h * g.w..(c0 + c + 1) * g.h * g.w];
        for i in 0..g.kh {
            for j in 0..g.kw {
                let r = (c * g.kh + i) * g.kw + j;
                let row = &cols[r * ld + col0..r * ld + col0 + hw];
                let off = (j * dw) as isize - pw as isize;
                let (lo, hi) = valid_range(g.wo, sw, off, g.w);
                if lo >= hi {
                    continue;
                }
                for oh in 0..g.ho {
                    let ih = (oh * sh + i * dh) as isize - ph as isize;
                    if ih < 0 || ih >= g.h as isize {
                        continue;
                    }
                    let dst = &mut plane[ih as usize * g.w..(ih as usize + 1) * g.w];
                    let src = &row[oh * g.wo + lo..oh * g.wo + hi];
                    let start = ((lo * sw) as isize + off) as usize;
                    if sw == 1 {
                        for (d, &v) in dst[start..start + src.len()].iter_mut().zip(src) {
                            *d = *d + v;
                        }
                    } else {
                        for (k, &v) in src.iter().enumerate() {
                            dst[start + k * sw] = dst[start + k * sw] + v;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::valid_range;

    #[test]
    fn valid_ranges() {
        // 3-wide kernel, pad 1, stride 1 over 5 columns: tap 0 starts one column in.
        assert_eq!(valid_range(5, 1, -1, 5), (1, 5));
        assert_eq!(valid_range(5, 1, 1, 5), (0, 4));
        assert_eq!(valid_range(3, 2, -1, 5), (1, 3));
        assert_eq!(valid_range(2, 1, 9, 5), (0, 0));
    }
}
