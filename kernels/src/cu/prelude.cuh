// Shared by every kernel module (prepended by the Rust side: NVRTC sees no headers).
typedef unsigned long long u64;
typedef long long i64;
typedef unsigned int u32;
typedef unsigned char u8;
typedef unsigned short u16;

// Half types as 2-byte structs holding the bits, so templates tell them apart.
struct f16 { unsigned short x; };
struct bf16 { unsigned short x; };

#define MAX_RANK 8
struct Dims { u64 v[MAX_RANK]; };

__device__ __forceinline__ float f16_to_f32(f16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h.x));
    return f;
}
__device__ __forceinline__ f16 f32_to_f16(float f) {
    f16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h.x) : "f"(f));
    return h;
}
__device__ __forceinline__ float bf16_to_f32(bf16 b) { return __uint_as_float(((unsigned int)b.x) << 16); }
__device__ __forceinline__ bf16 f32_to_bf16(float f) {
    unsigned int u = __float_as_uint(f);
    bf16 b;
    if ((u & 0x7fffffffu) > 0x7f800000u) { b.x = (unsigned short)((u >> 16) | 0x40u); return b; }  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
    b.x = (unsigned short)(u >> 16);
    return b;
}

// The compute type of each storage type, and conversions to and from it.
template <typename T> struct Acc { typedef T type; };
template <> struct Acc<f16> { typedef float type; };
template <> struct Acc<bf16> { typedef float type; };
template <typename T> __device__ __forceinline__ typename Acc<T>::type load(T v) { return v; }
template <> __device__ __forceinline__ float load<f16>(f16 v) { return f16_to_f32(v); }
template <> __device__ __forceinline__ float load<bf16>(bf16 v) { return bf16_to_f32(v); }
template <typename T> __device__ __forceinline__ T store(typename Acc<T>::type v) { return v; }
template <> __device__ __forceinline__ f16 store<f16>(float v) { return f32_to_f16(v); }
template <> __device__ __forceinline__ bf16 store<bf16>(float v) { return f32_to_bf16(v); }

// Any storage type through double (exact for all but i64 beyond 2^53).
template <typename T> __device__ __forceinline__ double to_f64(T v) { return (double)load<T>(v); }
template <typename T> __device__ __forceinline__ T from_f64(double v) { return store<T>((typename Acc<T>::type)v); }
template <> __device__ __forceinline__ u8 from_f64<u8>(double v) { return (u8)(long long)v; }
template <> __device__ __forceinline__ u32 from_f64<u32>(double v) { return (u32)(long long)v; }

// Storage offset of element `i` (row-major over `shape`) of a strided view.
__device__ __forceinline__ u64 offset_of(u64 i, int rank, const Dims& shape, const Dims& strides) {
    // Merged dims make most views rank 1 (contiguous, or one broadcast): no 64-bit division.
    if (rank == 1) return i * strides.v[0];
    u64 off = 0;
    for (int d = rank - 1; d >= 0; --d) {
        u64 s = shape.v[d];
        off += (i % s) * strides.v[d];
        i /= s;
    }
    return off;
}

#define GRID_STRIDE(i, n) for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (u64)blockDim.x * gridDim.x)
