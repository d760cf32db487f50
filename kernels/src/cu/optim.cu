// Fused optimizer updates over many tensors per launch: blockIdx.y picks the tensor,
// the x dimension strides over its elements. Per-tensor scalars (bias corrections,
// decayed rates) come in `h0`/`h1`; `s0..s2` are the rule's state buffers (f32).

#define MAX_TENSORS 24
struct TensorList {
    u64 p[MAX_TENSORS], g[MAX_TENSORS], s0[MAX_TENSORS], s1[MAX_TENSORS], s2[MAX_TENSORS], n[MAX_TENSORS];
    float h0[MAX_TENSORS], h1[MAX_TENSORS];
};

#define FOR_ELEMENTS(t, i) \
    int t = blockIdx.y; \
    if (t >= count) return; \
    u64 n_ = list.n[t]; \
    for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < n_; i += (u64)blockDim.x * gridDim.x)

extern "C" __global__ void sgd_f32(TensorList list, int count, float lr, float momentum, float dampening, int nesterov, float wd, int first) {
    FOR_ELEMENTS(t, i) {
        float* p = (float*)list.p[t];
        const float* g = (const float*)list.g[t];
        float d = g[i] + wd * p[i];
        if (momentum != 0.0f) {
            float* buf = (float*)list.s0[t];
            float b = first ? d : momentum * buf[i] + (1.0f - dampening) * d;
            buf[i] = b;
            d = nesterov ? d + momentum * b : b;
        }
        p[i] -= lr * d;
    }
}

// h0: lr / (1 − β1^t); h1: sqrt(1 − β2^t).
extern "C" __global__ void adam_f32(TensorList list, int count, float lr, float beta1, float beta2, float eps, float wd, int decoupled) {
    FOR_ELEMENTS(t, i) {
        float* p = (float*)list.p[t];
        const float* g = (const float*)list.g[t];
        float* m = (float*)list.s0[t];
        float* v = (float*)list.s1[t];
        float d = g[i], w = p[i];
        if (decoupled) w *= 1.0f - lr * wd; else d += wd * w;
        float mi = beta1 * m[i] + (1.0f - beta1) * d;
        float vi = beta2 * v[i] + (1.0f - beta2) * d * d;
        m[i] = mi;
        v[i] = vi;
        p[i] = w - list.h0[t] * mi / (sqrtf(vi) / list.h1[t] + eps);
    }
}

extern "C" __global__ void rmsprop_f32(TensorList list, int count, float lr, float alpha, float eps, float wd, float momentum, int centered) {
    FOR_ELEMENTS(t, i) {
        float* p = (float*)list.p[t];
        const float* g = (const float*)list.g[t];
        float* sq = (float*)list.s0[t];
        float d = g[i] + wd * p[i];
        float s = alpha * sq[i] + (1.0f - alpha) * d * d;
        sq[i] = s;
        float avg;
        if (centered) {
            float* ga = (float*)(momentum > 0.0f ? list.s2[t] : list.s1[t]);
            float a = alpha * ga[i] + (1.0f - alpha) * d;
            ga[i] = a;
            avg = sqrtf(s - a * a) + eps;
        } else {
            avg = sqrtf(s) + eps;
        }
        if (momentum > 0.0f) {
            float* buf = (float*)list.s1[t];
            float b = momentum * buf[i] + d / avg;
            buf[i] = b;
            p[i] -= lr * b;
        } else {
            p[i] -= lr * d / avg;
        }
    }
}

// h0: this tensor's decayed rate lr / (1 + (t − 1)·lr_decay).
extern "C" __global__ void adagrad_f32(TensorList list, int count, float eps, float wd) {
    FOR_ELEMENTS(t, i) {
        float* p = (float*)list.p[t];
        const float* g = (const float*)list.g[t];
        float* sum = (float*)list.s0[t];
        float d = g[i] + wd * p[i];
        float s = sum[i] + d * d;
        sum[i] = s;
        p[i] -= list.h0[t] * d / (sqrtf(s) + eps);
    }
}
