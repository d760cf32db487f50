// Counter-based random numbers (Philox4x32-10): element i of a draw with `seed` and
// `offset` depends only on (seed, offset + i), so any grid computes the same tensor.

__device__ __forceinline__ void philox(u32 c[4], u32 k0, u32 k1) {
    for (int r = 0; r < 10; ++r) {
        u32 hi0 = __umulhi(0xD2511F53u, c[0]), lo0 = 0xD2511F53u * c[0];
        u32 hi1 = __umulhi(0xCD9E8D57u, c[2]), lo1 = 0xCD9E8D57u * c[2];
        u32 n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

// Four uniform u32 for counter `ctr`.
__device__ __forceinline__ void philox4(u64 seed, u64 ctr, u32 out[4]) {
    out[0] = (u32)ctr; out[1] = (u32)(ctr >> 32); out[2] = 0; out[3] = 0;
    philox(out, (u32)seed, (u32)(seed >> 32));
}

// Uniform in [0, 1) with 24 random bits.
__device__ __forceinline__ float unit(u32 x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

extern "C" __global__ void rand_uniform_f32(u64 n, u64 seed, u64 offset, float lo, float hi, float* y) {
    GRID_STRIDE(i, n) {
        u32 r[4];
        philox4(seed, offset + i, r);
        y[i] = lo + (hi - lo) * unit(r[0]);
    }
}

// Box–Muller on two uniforms of the element's own counter.
extern "C" __global__ void rand_normal_f32(u64 n, u64 seed, u64 offset, float mean, float std, float* y) {
    GRID_STRIDE(i, n) {
        u32 r[4];
        philox4(seed, offset + i, r);
        float u1 = 1.0f - unit(r[0]);  // (0, 1]
        float u2 = unit(r[1]);
        y[i] = mean + std * sqrtf(-2.0f * logf(u1)) * cosf(6.2831853071795864f * u2);
    }
}
