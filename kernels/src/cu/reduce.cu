// Reductions over the last dim of contiguous rows (the caller moves reduced dims last):
// one block per row, a strided pass per thread, then warp shuffles and one shared-memory
// step across warps.

enum { R_SUM, R_MAX, R_MIN };

template <typename A>
__device__ __forceinline__ A combine(int op, A a, A b) {
    if (op == R_SUM) return a + b;
    if (a != a) return a;  // NaN propagates
    if (b != b) return b;
    return op == R_MAX ? (a >= b ? a : b) : (a <= b ? a : b);
}

template <typename A>
__device__ __forceinline__ A warp_reduce(int op, A v) {
    for (int o = 16; o > 0; o >>= 1) v = combine<A>(op, v, __shfl_down_sync(0xffffffffu, v, o));
    return v;
}

template <typename T>
__device__ void reduce_rows_impl(int op, u64 rows, u64 len, T identity, const T* x, T* y) {
    typedef typename Acc<T>::type A;
    __shared__ A partial[32];
    for (u64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* row = x + r * len;
        A acc = load<T>(identity);
        for (u64 j = threadIdx.x; j < len; j += blockDim.x) acc = combine<A>(op, acc, load<T>(row[j]));
        acc = warp_reduce<A>(op, acc);
        int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
        if (lane == 0) partial[warp] = acc;
        __syncthreads();
        if (warp == 0) {
            int warps = (blockDim.x + 31) >> 5;
            acc = lane < warps ? partial[lane] : load<T>(identity);
            acc = warp_reduce<A>(op, acc);
            if (lane == 0) y[r] = store<T>(acc);
        }
        __syncthreads();
    }
}

#define REDUCE(NAME, T) \
    extern "C" __global__ void NAME(int op, u64 rows, u64 len, T identity, const T* x, T* y) { reduce_rows_impl<T>(op, rows, len, identity, x, y); }
REDUCE(reduce_f32, float)
REDUCE(reduce_f64, double)
REDUCE(reduce_f16, f16)
REDUCE(reduce_bf16, bf16)
REDUCE(reduce_u32, u32)
REDUCE(reduce_i64, i64)

// Index of the max (op 0) or min (op 1) of each row, first on ties, NaN wins.
template <typename T>
__device__ void arg_rows_impl(int op, u64 rows, u64 len, const T* x, u32* y) {
    typedef typename Acc<T>::type A;
    __shared__ A best_v[256];
    __shared__ u32 best_i[256];
    for (u64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* row = x + r * len;
        A bv = load<T>(row[0]);
        u32 bi = 0;
        for (u64 j = threadIdx.x; j < len; j += blockDim.x) {
            A v = load<T>(row[j]);
            bool nan_v = v != v, nan_b = bv != bv;
            bool better = !nan_b && (nan_v || (op == 0 ? v > bv : v < bv));
            if (better || (j < bi && (v == bv || (nan_v && nan_b)))) { bv = v; bi = (u32)j; }
        }
        best_v[threadIdx.x] = bv;
        best_i[threadIdx.x] = bi;
        __syncthreads();
        for (u32 s = blockDim.x / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) {
                A v = best_v[threadIdx.x + s], b = best_v[threadIdx.x];
                u32 vi = best_i[threadIdx.x + s], ib = best_i[threadIdx.x];
                bool nan_v = v != v, nan_b = b != b;
                bool better = !nan_b && (nan_v || (op == 0 ? v > b : v < b));
                bool tie = (v == b || (nan_v && nan_b)) && vi < ib;
                if (better || tie) { best_v[threadIdx.x] = v; best_i[threadIdx.x] = vi; }
            }
            __syncthreads();
        }
        if (threadIdx.x == 0) y[r] = best_i[0];
        __syncthreads();
    }
}

#define ARGREDUCE(NAME, T) \
    extern "C" __global__ void NAME(int op, u64 rows, u64 len, const T* x, u32* y) { arg_rows_impl<T>(op, rows, len, x, y); }
ARGREDUCE(arg_f32, float)
ARGREDUCE(arg_f64, double)
ARGREDUCE(arg_f16, f16)
ARGREDUCE(arg_bf16, bf16)
ARGREDUCE(arg_u8, u8)
ARGREDUCE(arg_u32, u32)
ARGREDUCE(arg_i64, i64)
