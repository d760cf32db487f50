// Index ops. Indices out of range are never followed: the element reads (or adds) zero
// and the per-device error flag is raised, which the host reports at its next read-back.

template <typename I>
__device__ __forceinline__ bool index_ok(I id, u64 size, u64* out) {
    long long v = (long long)id;
    if (v < 0 || (u64)v >= size) return false;
    *out = (u64)v;
    return true;
}

// out[p, j, q] = src[p, ids[j], q] with src contiguous `[pre, size, post]`.
#define INDEX_SELECT(NAME, T, I) \
    extern "C" __global__ void NAME(u64 n, u64 n_ids, u64 size, u64 post, const I* ids, const T* src, T* out, int* err) { \
        GRID_STRIDE(i, n) { \
            u64 q = i % post, j = (i / post) % n_ids, p = i / (post * n_ids), id; \
            if (index_ok<I>(ids[j], size, &id)) out[i] = src[(p * size + id) * post + q]; \
            else { out[i] = T(); atomicOr(err, 1); } \
        } }
#define INDEX_SELECT_ALL(T, TN) INDEX_SELECT(index_select_##TN##_u32, T, u32) INDEX_SELECT(index_select_##TN##_i64, T, i64) INDEX_SELECT(index_select_##TN##_u8, T, u8)
INDEX_SELECT_ALL(u8, b1)
INDEX_SELECT_ALL(u16, b2)
INDEX_SELECT_ALL(u32, b4)
INDEX_SELECT_ALL(u64, b8)

// out[i] = src[base(i) + ids[i] * dim_stride]: `src_strides` has 0 at the gathered dim.
#define GATHER(NAME, T, I) \
    extern "C" __global__ void NAME(u64 n, int rank, Dims shape, Dims src_strides, u64 src_off, u64 dim_stride, u64 size, \
                                    Dims ids_strides, u64 ids_off, const I* ids, const T* src, T* out, int* err) { \
        GRID_STRIDE(i, n) { \
            u64 id; \
            if (index_ok<I>(ids[ids_off + offset_of(i, rank, shape, ids_strides)], size, &id)) \
                out[i] = src[src_off + offset_of(i, rank, shape, src_strides) + id * dim_stride]; \
            else { out[i] = T(); atomicOr(err, 1); } \
        } }
#define GATHER_ALL(T, TN) GATHER(gather_##TN##_u32, T, u32) GATHER(gather_##TN##_i64, T, i64) GATHER(gather_##TN##_u8, T, u8)
GATHER_ALL(u8, b1)
GATHER_ALL(u16, b2)
GATHER_ALL(u32, b4)
GATHER_ALL(u64, b8)

__device__ __forceinline__ void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(u32* p, u32 v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(i64* p, i64 v) { atomicAdd((unsigned long long*)p, (unsigned long long)v); }

// out (zeroed, contiguous) += src at ids along the scattered dim: `out_strides` has 0 there.
#define SCATTER_ADD(NAME, T, I) \
    extern "C" __global__ void NAME(u64 n, int rank, Dims shape, Dims src_strides, u64 src_off, Dims ids_strides, u64 ids_off, \
                                    Dims out_strides, u64 out_dim_stride, u64 size, const I* ids, const T* src, T* out, int* err) { \
        GRID_STRIDE(i, n) { \
            u64 id; \
            if (index_ok<I>(ids[ids_off + offset_of(i, rank, shape, ids_strides)], size, &id)) \
                atomic_add(&out[offset_of(i, rank, shape, out_strides) + id * out_dim_stride], src[src_off + offset_of(i, rank, shape, src_strides)]); \
            else atomicOr(err, 1); \
        } }
#define SCATTER_ALL(T, TN) SCATTER_ADD(scatter_add_##TN##_u32, T, u32) SCATTER_ADD(scatter_add_##TN##_i64, T, i64) SCATTER_ADD(scatter_add_##TN##_u8, T, u8)
SCATTER_ALL(float, f32)
SCATTER_ALL(double, f64)
SCATTER_ALL(u32, u32)
SCATTER_ALL(i64, i64)
