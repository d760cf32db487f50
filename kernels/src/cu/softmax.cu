// Softmax / log-softmax over contiguous rows: one block per row, three passes (max,
// sum of exponentials, write) with block-wide reductions in float (double for f64).

template <typename A> __device__ __forceinline__ A neg_inf();
template <> __device__ __forceinline__ float neg_inf<float>() { return __int_as_float(0xff800000); }
template <> __device__ __forceinline__ double neg_inf<double>() { return __longlong_as_double(0xfff0000000000000ULL); }

template <typename A>
__device__ __forceinline__ A block_reduce(A v, bool is_max, A* scratch) {
    for (int o = 16; o > 0; o >>= 1) {
        A u = __shfl_down_sync(0xffffffffu, v, o);
        v = is_max ? (u > v ? u : v) : v + u;
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? scratch[lane] : (is_max ? neg_inf<A>() : (A)0);
        for (int o = 16; o > 0; o >>= 1) {
            A u = __shfl_down_sync(0xffffffffu, v, o);
            v = is_max ? (u > v ? u : v) : v + u;
        }
        if (lane == 0) scratch[0] = v;
    }
    __syncthreads();
    v = scratch[0];
    __syncthreads();
    return v;
}

template <typename T>
__device__ void softmax_impl(int log_out, u64 rows, u64 len, const T* x, T* y) {
    typedef typename Acc<T>::type A;
    __shared__ A scratch[32];
    for (u64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * len;
        T* yr = y + r * len;
        A m = neg_inf<A>();
        for (u64 j = threadIdx.x; j < len; j += blockDim.x) { A v = load<T>(xr[j]); m = v > m ? v : m; }
        m = block_reduce<A>(m, true, scratch);
        if (!(m > neg_inf<A>() && m < -neg_inf<A>())) m = (A)0;  // no finite max: NaN row, as PyTorch
        A s = 0;
        for (u64 j = threadIdx.x; j < len; j += blockDim.x) s += exp(load<T>(xr[j]) - m);
        s = block_reduce<A>(s, false, scratch);
        A ls = log(s) + m, inv = (A)1 / s;
        for (u64 j = threadIdx.x; j < len; j += blockDim.x) {
            A v = load<T>(xr[j]);
            yr[j] = store<T>(log_out ? v - ls : exp(v - m) * inv);
        }
    }
}

#define SOFTMAX(NAME, T) \
    extern "C" __global__ void NAME(int log_out, u64 rows, u64 len, const T* x, T* y) { softmax_impl<T>(log_out, rows, len, x, y); }
SOFTMAX(softmax_f32, float)
SOFTMAX(softmax_f64, double)
SOFTMAX(softmax_f16, f16)
SOFTMAX(softmax_bf16, bf16)
