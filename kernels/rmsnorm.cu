/* rmsnorm: one warp per row for the per-row work (sum of squares, the dinp dot product); the weight gradient
 * is a column reduction over rows, done in row slabs into scratch and then over the slabs in order. Rows are
 * read twice from L1/L2, which is cheaper than keeping C/32 values per lane in registers for every hidden size. */
#include "rmsnorm.h"

#include "common.cuh"
#include "reduce.h"

#define ROWS_PER_BLOCK 4 /* warps per block, one row each */

/* With a (and b) given, x = a + b is formed and stored first (x may alias a or b: each element is read before
 * the same lane writes it); the norm then reads x back. */
static __global__ void rmsnorm_fwd_kernel(float *out, __nv_bfloat16 *outb, float *rstd, float *x, const float *a,
                                          const float *b, const float *w, int N, int C, float eps) {
    int row = blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= N) return;
    float *xr = x + (size_t)row * C;
    float *o = out + (size_t)row * C;
    float ss = 0.0f;
    if (a) {
        const float *ar = a + (size_t)row * C, *br = b + (size_t)row * C;
        for (int c = lane; c < C; c += 32) {
            float v = ar[c] + br[c];
            xr[c] = v;
            ss += v * v;
        }
    } else {
        for (int c = lane; c < C; c += 32) ss += xr[c] * xr[c];
    }
    ss = warp_sum(ss);
    float r = 1.0f / sqrtf(ss / C + eps);
    for (int c = lane; c < C; c += 32) {
        float v = w[c] * (xr[c] * r);
        o[c] = v;
        if (outb) outb[(size_t)row * C + c] = __float2bfloat16_rn(v);
    }
    if (lane == 0) rstd[row] = r;
}

static __global__ void rmsnorm_bwd_dinp_kernel(float *dinp, const float *dout, const float *inp, const float *w,
                                               const float *rstd, int N, int C) {
    int row = blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= N) return;
    const float *x = inp + (size_t)row * C, *g = dout + (size_t)row * C;
    float *dx = dinp + (size_t)row * C;
    float r = rstd[row], dot = 0.0f;
    for (int c = lane; c < C; c += 32) dot += g[c] * w[c] * x[c];
    dot = warp_sum(dot);
    float k = dot * r * r * r / C;
    for (int c = lane; c < C; c += 32) dx[c] += g[c] * w[c] * r - k * x[c];
}

/* partial (slabs, C): column sums of dout * inp * rstd over each slab of rows */
static __global__ void rmsnorm_bwd_dw_kernel(float *partial, const float *dout, const float *inp, const float *rstd,
                                             int N, int C, int slab) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    int r0 = blockIdx.y * slab, r1 = min(r0 + slab, N);
    float s = 0.0f;
    for (int i = r0; i < r1; i++) s += dout[(size_t)i * C + c] * inp[(size_t)i * C + c] * rstd[i];
    partial[(size_t)blockIdx.y * C + c] = s;
}

static cudaError_t launch_fwd(float *out, uint16_t *outb, float *rstd, float *x, const float *a, const float *b,
                              const float *w, int N, int C, float eps, cudaStream_t stream) {
    if (N <= 0 || C <= 0) return cudaSuccess;
    rmsnorm_fwd_kernel<<<ceil_div_u(N, ROWS_PER_BLOCK), 32 * ROWS_PER_BLOCK, 0, stream>>>(
        out, reinterpret_cast<__nv_bfloat16 *>(outb), rstd, x, a, b, w, N, C, eps);
    return cudaGetLastError();
}

extern "C" cudaError_t rmsnorm_forward(float *out, uint16_t *outb, float *rstd, const float *inp, const float *w, int N,
                                       int C, float eps, cudaStream_t stream) {
    /* x is only read when a is NULL */
    return launch_fwd(out, outb, rstd, const_cast<float *>(inp), NULL, NULL, w, N, C, eps, stream);
}

extern "C" cudaError_t rmsnorm_forward_add(float *out, uint16_t *outb, float *rstd, float *x, const float *a,
                                           const float *b, const float *w, int N, int C, float eps,
                                           cudaStream_t stream) {
    return launch_fwd(out, outb, rstd, x, a, b, w, N, C, eps, stream);
}

extern "C" size_t rmsnorm_backward_scratch_floats(int N, int C) {
    return reduce_colsum_scratch_floats(N, C);
}

extern "C" cudaError_t rmsnorm_backward(float *dinp, float *dw, float *partial, const float *dout, const float *inp,
                                        const float *w, const float *rstd, int N, int C, cudaStream_t stream) {
    if (N <= 0 || C <= 0) return cudaSuccess;
    rmsnorm_bwd_dinp_kernel<<<ceil_div_u(N, ROWS_PER_BLOCK), 32 * ROWS_PER_BLOCK, 0, stream>>>(dinp, dout, inp, w, rstd,
                                                                                               N, C);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    int slab = reduce_colsum_slab_rows(N), slabs = (N + slab - 1) / slab;
    rmsnorm_bwd_dw_kernel<<<dim3(ceil_div_u(C, 128), slabs), 128, 0, stream>>>(partial, dout, inp, rstd, N, C, slab);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
    return reduce_slabs_add(dw, partial, slabs, C, stream);
}
