// 2-D max and average pooling (NCHW), one thread per output (forward) or per input
// pixel (average pooling's backward gathers the windows that cover it).

struct PoolGeom {
    u64 h, w, ho, wo, kh, kw, sh, sw, ph, pw;
};

#define MAXPOOL(NAME, T) \
    extern "C" __global__ void NAME(u64 total, PoolGeom g, const T* x, T* y, u32* idx) { \
        typedef Acc<T>::type A; \
        GRID_STRIDE(i, total) { \
            u64 ow = i % g.wo, oh = (i / g.wo) % g.ho, plane = i / (g.wo * g.ho); \
            const T* xp = x + plane * g.h * g.w; \
            long long h0 = (long long)(oh * g.sh) - (long long)g.ph, w0 = (long long)(ow * g.sw) - (long long)g.pw; \
            long long h1 = h0 + (long long)g.kh, w1 = w0 + (long long)g.kw; \
            if (h0 < 0) h0 = 0; \
            if (w0 < 0) w0 = 0; \
            if (h1 > (long long)g.h) h1 = g.h; \
            if (w1 > (long long)g.w) w1 = g.w; \
            A best = load<T>(xp[h0 * g.w + w0]); \
            u64 at = h0 * g.w + w0; \
            for (long long ih = h0; ih < h1; ++ih) \
                for (long long iw = w0; iw < w1; ++iw) { \
                    A v = load<T>(xp[ih * g.w + iw]); \
                    if (v > best || (v != v && best == best)) { best = v; at = ih * g.w + iw; } \
                } \
            y[i] = store<T>(best); \
            idx[i] = (u32)at; \
        } }
MAXPOOL(maxpool_f32, float)
MAXPOOL(maxpool_f64, double)
MAXPOOL(maxpool_f16, f16)
MAXPOOL(maxpool_bf16, bf16)

// Padding counts towards the divisor (PyTorch's count_include_pad).
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
            y[i] = store<T>(s / (A)(g.kh * g.kw)); \
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
                for (u64 ow = ow0; ow <= ow1 && ow < g.wo; ++ow) s += load<T>(gp[oh * g.wo + ow]); \
            dx[i] = store<T>(s / (A)(g.kh * g.kw)); \
        } }
AVGPOOL_BACK(avgpool_backward_f32, float)
AVGPOOL_BACK(avgpool_backward_f64, double)
AVGPOOL_BACK(avgpool_backward_f16, f16)
AVGPOOL_BACK(avgpool_backward_bf16, bf16)
