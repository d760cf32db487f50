// im2col and col2im for conv2d through GEMM, one thread per element. Columns are
// `[nb, c·kh·kw, ho·wo]` (one matrix per image), or with `wide` set
// `[c·kh·kw, nb·ho·wo]` (images side by side, for the weight gradient's single GEMM).
// col2im gathers every column entry that covers an input pixel (no atomics).

struct ConvGeom {
    u64 c, h, w, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw;
};

#define IM2COL(NAME, T) \
    extern "C" __global__ void NAME(u64 total, u64 nb, int wide, ConvGeom g, const T* x, T* cols) { \
        GRID_STRIDE(i, total) { \
            u64 hw = g.ho * g.wo, rows = g.c * g.kh * g.kw, p = i % hw, row, b; \
            if (wide) { b = (i / hw) % nb; row = i / (hw * nb); } \
            else { row = (i / hw) % rows; b = i / (hw * rows); } \
            u64 kx = row % g.kw, ky = (row / g.kw) % g.kh, ch = row / (g.kw * g.kh); \
            long long ih = (long long)((p / g.wo) * g.sh + ky * g.dh) - (long long)g.ph; \
            long long iw = (long long)((p % g.wo) * g.sw + kx * g.dw) - (long long)g.pw; \
            bool in = ih >= 0 && iw >= 0 && ih < (long long)g.h && iw < (long long)g.w; \
            cols[i] = in ? x[((b * g.c + ch) * g.h + ih) * g.w + iw] : T(); \
        } }
IM2COL(im2col_f32, float)
IM2COL(im2col_f64, double)
IM2COL(im2col_f16, f16)
IM2COL(im2col_bf16, bf16)

#define COL2IM(NAME, T) \
    extern "C" __global__ void NAME(u64 total, ConvGeom g, const T* cols, T* dx) { \
        typedef Acc<T>::type A; \
        GRID_STRIDE(i, total) { \
            u64 iw = i % g.w, ih = (i / g.w) % g.h, ch = (i / (g.w * g.h)) % g.c, b = i / (g.w * g.h * g.c); \
            A acc = 0; \
            for (u64 ky = 0; ky < g.kh; ++ky) { \
                long long t = (long long)(ih + g.ph) - (long long)(ky * g.dh); \
                if (t < 0 || t % (long long)g.sh != 0) continue; \
                u64 oh = (u64)t / g.sh; \
                if (oh >= g.ho) continue; \
                for (u64 kx = 0; kx < g.kw; ++kx) { \
                    long long s = (long long)(iw + g.pw) - (long long)(kx * g.dw); \
                    if (s < 0 || s % (long long)g.sw != 0) continue; \
                    u64 ow = (u64)s / g.sw; \
                    if (ow >= g.wo) continue; \
                    u64 row = (ch * g.kh + ky) * g.kw + kx; \
                    acc += load<T>(cols[(b * g.c * g.kh * g.kw + row) * g.ho * g.wo + oh * g.wo + ow]); \
                } \
            } \
            dx[i] = store<T>(acc); \
        } }
COL2IM(col2im_f32, float)
COL2IM(col2im_f64, double)
COL2IM(col2im_f16, f16)
COL2IM(col2im_bf16, bf16)
