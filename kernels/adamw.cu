/* adamw: one pass over (param, grad, m, v), writing param, m, v and the bf16 shadow of param. */
#include "adamw.h"

#include "common.cuh"

static __global__ void adamw_kernel(float *param, __nv_bfloat16 *shadow, const float *grad, float *m, float *v,
                                    size_t n, float decay, float step, float beta1, float beta2, float bc2_sqrt,
                                    float eps) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float g = grad[i], p = param[i] * decay, mi = m[i], vi = v[i];
        mi += (g - mi) * (1.0f - beta1);
        vi = vi * beta2 + (1.0f - beta2) * g * g;
        p -= step * mi / (sqrtf(vi) / bc2_sqrt + eps);
        param[i] = p;
        m[i] = mi;
        v[i] = vi;
        if (shadow) shadow[i] = __float2bfloat16_rn(p);
    }
}

extern "C" cudaError_t adamw_update(float *param, uint16_t *shadow, const float *grad, float *m, float *v, size_t n,
                                    float lr, float beta1, float beta2, float eps, float weight_decay,
                                    float bias_correction1, float bias_correction2, cudaStream_t stream) {
    if (n == 0) return cudaSuccess;
    float decay = 1.0f - lr * weight_decay, step = lr / bias_correction1, bc2_sqrt = sqrtf(bias_correction2);
    adamw_kernel<<<grid_for(n, 256), 256, 0, stream>>>(param, (__nv_bfloat16 *)shadow, grad, m, v, n, decay, step,
                                                       beta1, beta2, bc2_sqrt, eps);
    return cudaGetLastError();
}
