// Elementwise ops over strided operands with a contiguous output: unary functions,
// binary arithmetic and comparisons (operands already broadcast by the caller), select,
// dtype casts, strided copies, fills and in-place axpy.

// Unary op codes: the order of lolcore's UnaryOp.
enum { U_NEG, U_EXP, U_LOG, U_SQRT, U_ABS, U_SIN, U_COS, U_TANH, U_SIGMOID, U_RELU, U_GELU, U_GELU_DERIV,
       U_SQR, U_RECIP, U_SIGN, U_STEP, U_ERF, U_FLOOR, U_CEIL, U_ROUND, U_AFFINE, U_POWF, U_LEAKY,
       U_LEAKY_DERIV, U_CLAMP, U_CLAMP_MASK };

template <typename A>
__device__ __forceinline__ A unary_fn(int op, A x, A p0, A p1) {
    const A zero = (A)0, one = (A)1, half = (A)0.5;
    switch (op) {
        case U_NEG: return -x;
        case U_EXP: return exp(x);
        case U_LOG: return log(x);
        case U_SQRT: return sqrt(x);
        case U_ABS: return fabs(x);
        case U_SIN: return sin(x);
        case U_COS: return cos(x);
        case U_TANH: return tanh(x);
        case U_SIGMOID: return x >= zero ? one / (one + exp(-x)) : exp(x) / (one + exp(x));
        case U_RELU: return x > zero ? x : zero;
        case U_GELU: return half * x * (one + erf(x * (A)0.70710678118654752440));
        case U_GELU_DERIV: return half * (one + erf(x * (A)0.70710678118654752440)) + x * (A)0.39894228040143267794 * exp(-half * x * x);
        case U_SQR: return x * x;
        case U_RECIP: return one / x;
        case U_SIGN: return x > zero ? one : (x < zero ? -one : zero);
        case U_STEP: return x > zero ? one : zero;
        case U_ERF: return erf(x);
        case U_FLOOR: return floor(x);
        case U_CEIL: return ceil(x);
        case U_ROUND: return round(x);
        case U_AFFINE: return x * p0 + p1;
        case U_POWF: return pow(x, p0);
        case U_LEAKY: return x > zero ? x : x * p0;
        case U_LEAKY_DERIV: return x > zero ? one : p0;
        case U_CLAMP: return x < p0 ? p0 : (x > p1 ? p1 : x);
        case U_CLAMP_MASK: return (x >= p0 && x <= p1) ? one : zero;
    }
    return x;
}

template <typename T>
__device__ void unary_impl(int op, double p0, double p1, u64 n, int rank, Dims shape, Dims stride, u64 off, const T* x, T* y) {
    typedef typename Acc<T>::type A;
    GRID_STRIDE(i, n) {
        A v = load<T>(x[off + offset_of(i, rank, shape, stride)]);
        y[i] = store<T>(unary_fn<A>(op, v, (A)p0, (A)p1));
    }
}

#define UNARY(NAME, T) \
    extern "C" __global__ void NAME(int op, double p0, double p1, u64 n, int rank, Dims shape, Dims stride, u64 off, const T* x, T* y) { \
        unary_impl<T>(op, p0, p1, n, rank, shape, stride, off, x, y); }
UNARY(unary_f32, float)
UNARY(unary_f64, double)
UNARY(unary_f16, f16)
UNARY(unary_bf16, bf16)

// Binary op codes: the order of lolcore's BinaryOp.
enum { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_POW, B_MASK_POS };

template <typename A>
__device__ __forceinline__ A binary_float(int op, A a, A b) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_MAX: return (a != a || b != b) ? (a != a ? a : b) : (a >= b ? a : b);
        case B_MIN: return (a != a || b != b) ? (a != a ? a : b) : (a <= b ? a : b);
        case B_POW: return pow(a, b);
        case B_MASK_POS: return b > (A)0 ? a : (A)0;
    }
    return a;
}

template <typename A>
__device__ __forceinline__ A binary_int(int op, A a, A b) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return b == (A)0 ? (A)0 : a / b;
        case B_MAX: return a >= b ? a : b;
        case B_MIN: return a <= b ? a : b;
        case B_MASK_POS: return b > (A)0 ? a : (A)0;
    }
    return a;
}

#define BINARY(NAME, T, FN) \
    extern "C" __global__ void NAME(int op, u64 n, int rank, Dims shape, Dims sa, u64 oa, Dims sb, u64 ob, const T* a, const T* b, T* y) { \
        typedef Acc<T>::type A; \
        GRID_STRIDE(i, n) { \
            A va = load<T>(a[oa + offset_of(i, rank, shape, sa)]); \
            A vb = load<T>(b[ob + offset_of(i, rank, shape, sb)]); \
            y[i] = store<T>(FN<A>(op, va, vb)); \
        } }
BINARY(binary_f32, float, binary_float)
BINARY(binary_f64, double, binary_float)
BINARY(binary_f16, f16, binary_float)
BINARY(binary_bf16, bf16, binary_float)
BINARY(binary_u8, u8, binary_int)
BINARY(binary_u32, u32, binary_int)
BINARY(binary_i64, i64, binary_int)

// Comparison op codes: the order of lolcore's CmpOp. Result: 1 or 0 as u8.
enum { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };

#define COMPARE(NAME, T) \
    extern "C" __global__ void NAME(int op, u64 n, int rank, Dims shape, Dims sa, u64 oa, Dims sb, u64 ob, const T* a, const T* b, u8* y) { \
        typedef Acc<T>::type A; \
        GRID_STRIDE(i, n) { \
            A x = load<T>(a[oa + offset_of(i, rank, shape, sa)]); \
            A z = load<T>(b[ob + offset_of(i, rank, shape, sb)]); \
            bool r = op == C_EQ ? x == z : op == C_NE ? x != z : op == C_LT ? x < z : op == C_LE ? x <= z : op == C_GT ? x > z : x >= z; \
            y[i] = r ? 1 : 0; \
        } }
COMPARE(cmp_f32, float)
COMPARE(cmp_f64, double)
COMPARE(cmp_f16, f16)
COMPARE(cmp_bf16, bf16)
COMPARE(cmp_u8, u8)
COMPARE(cmp_u32, u32)
COMPARE(cmp_i64, i64)

// cond ? a : b, elementwise; all three strided over one shape.
#define SELECT(NAME, T) \
    extern "C" __global__ void NAME(u64 n, int rank, Dims shape, Dims sc, u64 oc, Dims sa, u64 oa, Dims sb, u64 ob, const u8* c, const T* a, const T* b, T* y) { \
        GRID_STRIDE(i, n) { \
            bool t = c[oc + offset_of(i, rank, shape, sc)] != 0; \
            y[i] = t ? a[oa + offset_of(i, rank, shape, sa)] : b[ob + offset_of(i, rank, shape, sb)]; \
        } }
SELECT(where_b1, u8)
SELECT(where_b2, u16)
SELECT(where_b4, u32)
SELECT(where_b8, u64)

// dtype conversion of a strided view into a contiguous output.
#define CAST(NAME, F, T) \
    extern "C" __global__ void NAME(u64 n, int rank, Dims shape, Dims stride, u64 off, const F* x, T* y) { \
        GRID_STRIDE(i, n) { y[i] = from_f64<T>(to_f64<F>(x[off + offset_of(i, rank, shape, stride)])); } }
#define CAST_FROM(F, FN) \
    CAST(cast_##FN##_f32, F, float) CAST(cast_##FN##_f64, F, double) CAST(cast_##FN##_f16, F, f16) \
    CAST(cast_##FN##_bf16, F, bf16) CAST(cast_##FN##_u8, F, u8) CAST(cast_##FN##_u32, F, u32) CAST(cast_##FN##_i64, F, i64)
CAST_FROM(float, f32)
CAST_FROM(double, f64)
CAST_FROM(f16, f16)
CAST_FROM(bf16, bf16)
CAST_FROM(u8, u8)
CAST_FROM(u32, u32)
CAST_FROM(i64, i64)

// Strided source into a strided destination, by element size.
#define COPY(NAME, T) \
    extern "C" __global__ void NAME(u64 n, int rank, Dims shape, Dims sd, u64 od, Dims ss, u64 os, const T* src, T* dst) { \
        GRID_STRIDE(i, n) { dst[od + offset_of(i, rank, shape, sd)] = src[os + offset_of(i, rank, shape, ss)]; } }
COPY(copy_b1, u8)
COPY(copy_b2, u16)
COPY(copy_b4, u32)
COPY(copy_b8, u64)

// Every element set to the same bits.
#define FILL(NAME, T) \
    extern "C" __global__ void NAME(u64 n, T value, T* y) { GRID_STRIDE(i, n) { y[i] = value; } }
FILL(fill_b1, u8)
FILL(fill_b2, u16)
FILL(fill_b4, u32)
FILL(fill_b8, u64)

// dst[view] += alpha · src[view]
#define AXPY(NAME, T) \
    extern "C" __global__ void NAME(u64 n, int rank, Dims shape, Dims sd, u64 od, Dims ss, u64 os, double alpha, T* dst, const T* src) { \
        typedef Acc<T>::type A; \
        GRID_STRIDE(i, n) { \
            u64 d = od + offset_of(i, rank, shape, sd); \
            dst[d] = store<T>(load<T>(dst[d]) + (A)alpha * load<T>(src[os + offset_of(i, rank, shape, ss)])); \
        } }
AXPY(axpy_f32, float)
AXPY(axpy_f64, double)
AXPY(axpy_f16, f16)
AXPY(axpy_bf16, bf16)

// out[n, c, hw] += bias[c]: a conv's per-channel bias.
#define CHANNEL_BIAS(NAME, T) \
    extern "C" __global__ void NAME(u64 n, u64 channels, u64 hw, const T* bias, T* y) { \
        GRID_STRIDE(i, n) { u64 c = (i / hw) % channels; y[i] = store<T>(load<T>(y[i]) + load<T>(bias[c])); } }
CHANNEL_BIAS(channel_bias_f32, float)
CHANNEL_BIAS(channel_bias_f64, double)
CHANNEL_BIAS(channel_bias_f16, f16)
CHANNEL_BIAS(channel_bias_bf16, bf16)
