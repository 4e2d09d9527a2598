/* gpu_peak: the device's own figures for the floors and MFU of bench/gpu_summary.awk — device-to-device copy
 * bandwidth (bytes read plus bytes written per second, over a 1 GiB copy) and dense bf16 GEMM throughput (an
 * 8192^3 product, fp32 accumulation, on non-trivial data, as the datasheets' peaks are not what a kernel meets).
 * Built on the GPU machine by bench/gpu_check.sh with nvcc alone: nvcc -O2 -o gpu_peak gpu_peak.cu -lcublas.
 * Prints one line: "gpu_peak: copy_tbs=<TB/s> gemm_bf16_tflops=<TFLOP/s> device=<name>"; exits 1 with the reason
 * when a CUDA or cuBLAS call fails. */
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdio.h>

#define CK(x)                                                                                                          \
    do {                                                                                                               \
        cudaError_t e_ = (x);                                                                                          \
        if (e_ != cudaSuccess) {                                                                                       \
            printf("gpu_peak: %s: %s\n", #x, cudaGetErrorString(e_));                                                  \
            return 1;                                                                                                  \
        }                                                                                                              \
    } while (0)
#define CB(x)                                                                                                          \
    do {                                                                                                               \
        cublasStatus_t s_ = (x);                                                                                       \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                                             \
            printf("gpu_peak: %s: %s\n", #x, cublasGetStatusString(s_));                                               \
            return 1;                                                                                                  \
        }                                                                                                              \
    } while (0)

static __global__ void fill(__nv_bfloat16 *x, size_t n, unsigned seed) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        unsigned h = (unsigned)i * 2654435761u ^ seed;
        h ^= h >> 13, h *= 0x5bd1e995u, h ^= h >> 15;
        x[i] = __float2bfloat16((float)(h & 0xffff) / 65536.0f - 0.5f);
    }
}

int main(void) {
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    cudaEvent_t t0, t1;
    CK(cudaEventCreate(&t0));
    CK(cudaEventCreate(&t1));
    float ms = 0;

    size_t bytes = (size_t)1 << 30;
    void *a, *b;
    CK(cudaMalloc(&a, bytes));
    CK(cudaMalloc(&b, bytes));
    CK(cudaMemset(a, 1, bytes));
    CK(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice)); /* warm-up */
    const int copies = 10;
    CK(cudaEventRecord(t0));
    for (int i = 0; i < copies; i++) CK(cudaMemcpyAsync(i % 2 ? a : b, i % 2 ? b : a, bytes, cudaMemcpyDeviceToDevice));
    CK(cudaEventRecord(t1));
    CK(cudaEventSynchronize(t1));
    CK(cudaEventElapsedTime(&ms, t0, t1));
    double copy_tbs = 2.0 * bytes * copies / (ms * 1e-3) / 1e12;
    CK(cudaFree(a));
    CK(cudaFree(b));

    const int n = 8192, reps = 20;
    size_t elems = (size_t)n * n;
    __nv_bfloat16 *A, *B;
    float *C;
    CK(cudaMalloc(&A, elems * 2));
    CK(cudaMalloc(&B, elems * 2));
    CK(cudaMalloc(&C, elems * 4));
    fill<<<4096, 256>>>(A, elems, 1u);
    fill<<<4096, 256>>>(B, elems, 2u);
    CK(cudaGetLastError());
    cublasHandle_t h;
    CB(cublasCreate(&h));
    const float alpha = 1.0f, beta = 0.0f;
    for (int i = 0; i < 3; i++) /* warm-up, and the clocks settle */
        CB(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &alpha, A, CUDA_R_16BF, n, B, CUDA_R_16BF, n, &beta, C,
                        CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    CK(cudaEventRecord(t0));
    for (int i = 0; i < reps; i++)
        CB(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &alpha, A, CUDA_R_16BF, n, B, CUDA_R_16BF, n, &beta, C,
                        CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    CK(cudaEventRecord(t1));
    CK(cudaEventSynchronize(t1));
    CK(cudaEventElapsedTime(&ms, t0, t1));
    double tflops = 2.0 * n * (double)n * n * reps / (ms * 1e-3) / 1e12;
    printf("gpu_peak: copy_tbs=%.2f gemm_bf16_tflops=%.0f device=%s\n", copy_tbs, tflops, prop.name);
    cublasDestroy(h);
    return 0;
}
