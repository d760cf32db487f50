// 2-D max and average pooling (NCHW), one thread per output (forward) or per input
// pixel (average pooling's backward gathers the windows that cover it). Max pooling
// takes a dilation; average pooling's divisor is its window's size within the padded
// input (PyTorch's count_include_pad: kh·kw, less in a ceil_mode window that overhangs).

struct PoolGeom {
    u64 h, w, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw;
};

// The divisor of average-pooling window (oh, ow).
__device__ __forceinline__ long long avg_divisor(const PoolGeom& g, long long oh, long long ow) {
    long long h0 = oh * (long long)g.sh - (long long)g.ph, w0 = ow * (long long)g.sw - (long long)g.pw;
    long long h1 = h0 + (long long)g.kh, w1 = w0 + (long long)g.kw;
    long long hmax = (long long)(g.h + g.ph), wmax = (long long)(g.w + g.pw);
    if (h1 > hmax) h1 = hmax;
    if (w1 > wmax) w1 = wmax;
    return (h1 - h0) * (w1 - w0);
}

#define MAXPOOL(NAME, T) \
    extern "C" __global__ void NAME(u64 total, PoolGeom g, const T* x, T* y, u32* idx) { \
        typedef Acc<T>::type A; \
        GRID_STRIDE(i, total) { \
            u64 ow = i % g.wo, oh = (i / g.wo) % g.ho, plane = i / (g.wo * g.ho); \
            const T* xp = x + plane * g.h * g.w; \
            long long h0 = (long long)(oh * g.sh) - (long long)g.ph, w0 = (long long)(ow * g.sw) - (long long)g.pw; \
            bool found = false; \
            A best = 0; \
            u64 at = 0; \
            for (u64 a = 0; a < g.kh; ++a) { \
                long long ih = h0 + (long long)(a * g.dh); \
                if (ih < 0 || ih >= (long long)g.h) continue; \
                for (u64 b = 0; b < g.kw; ++b) { \
                    long long iw = w0 + (long long)(b * g.dw); \
                    if (iw < 0 || iw >= (long long)g.w) continue; \
                    A v = load<T>(xp[ih * g.w + iw]); \
                    if (!found || v > best || (v != v && best == best)) { best = v; at = ih * g.w + iw; found = true; } \
                } \
            } \
            y[i] = store<T>(best); \
            idx[i] = (u32)at; \
        } }
MAXPOOL(maxpool_f32, float)
MAXPOOL(maxpool_f64, double)
MAXPOOL(maxpool_f16, f16)
MAXPOOL(maxpool_bf16, bf16)

#define AVGPOOL(NAME, T) \
    extern "C" __global__ void NAME(u64 total, PoolGeom g, const T* x, T* y) { \
        typedef Acc<T>::type A; \
        GRID_STRIDE(i, total) { \
            u64 ow = i % g.wo, oh = (i / g.wo) % g.ho, plane = i / (g.wo * g.ho); \
            const T* xp = x + plane * g.h * g.w; \
            long long h0 = (long long)(oh * g.sh) - (long long)g.ph, w0 = (long long)(ow * g.sw) - (long long)g.pw; \
            A s = 0; \
            for (long long ih = h0; ih < h0 + (long long)g.kh; ++ih) \
                for (long long iw = w0; iw < w0 + (long long)g.kw; ++iw) \
                    if (ih >= 0 && iw >= 0 && ih < (long long)g.h && iw < (long long)g.w) s += load<T>(xp[ih * g.w + iw]); \
            y[i] = store<T>(s / (A)avg_divisor(g, (long long)oh, (long long)ow)); \
        } }
AVGPOOL(avgpool_f32, float)
AVGPOOL(avgpool_f64, double)
AVGPOOL(avgpool_f16, f16)
AVGPOOL(avgpool_bf16, bf16)

// Only the output windows that cover the pixel are visited: rows oh with
// oh·sh − ph ≤ ih < oh·sh − ph + kh.
#define AVGPOOL_BACK(NAME, T) \
    extern "C" __global__ void NAME(u64 total, PoolGeom g, const T* gy, T* dx) { \
        typedef Acc<T>::type A; \
        GRID_STRIDE(i, total) { \
            u64 iw = i % g.w, ih = (i / g.w) % g.h, plane = i / (g.w * g.h); \
            const T* gp = gy + plane * g.ho * g.wo; \
            long long th = (long long)(ih + g.ph) - (long long)g.kh, tw = (long long)(iw + g.pw) - (long long)g.kw; \
            u64 oh0 = th < 0 ? 0 : (u64)th / g.sh + 1, ow0 = tw < 0 ? 0 : (u64)tw / g.sw + 1; \
            u64 oh1 = (ih + g.ph) / g.sh, ow1 = (iw + g.pw) / g.sw; \
            if (oh1 >= g.ho) oh1 = g.ho - 1; \
            if (ow1 >= g.wo) ow1 = g.wo - 1; \
            A s = 0; \
            for (u64 oh = oh0; oh <= oh1 && oh < g.ho; ++oh) \
                for (u64 ow = ow0; ow <= ow1 && ow < g.wo; ++ow) \
                    s += load<T>(gp[oh * g.wo + ow]) / (A)avg_divisor(g, (long long)oh, (long long)ow); \
            dx[i] = store<T>(s); \
        } }
AVGPOOL_BACK(avgpool_backward_f32, float)
AVGPOOL_BACK(avgpool_backward_f64, double)
AVGPOOL_BACK(avgpool_backward_f16, f16)
AVGPOOL_BACK(avgpool_backward_bf16, bf16)
