/* copy: block x of the grid takes copy x, the blocks along y split it; 16-byte accesses when the copy's
 * addresses and size allow, else 4-byte, else bytes. */
#include "copy.h"

#include "common.cuh"

#define COPY_THREADS 256

static __global__ void __launch_bounds__(COPY_THREADS) copy_batch_kernel(const struct copy_desc *descs) {
    const struct copy_desc c = descs[blockIdx.x];
    const size_t step = (size_t)gridDim.y * COPY_THREADS, first = (size_t)blockIdx.y * COPY_THREADS + threadIdx.x;
    if (((c.dst | c.src | c.bytes) & 15u) == 0) {
        uint4 *d = reinterpret_cast<uint4 *>(c.dst);
        const uint4 *s = reinterpret_cast<const uint4 *>(c.src);
        for (size_t i = first; i < c.bytes / 16; i += step) d[i] = s[i];
    } else if (((c.dst | c.src | c.bytes) & 3u) == 0) {
        uint32_t *d = reinterpret_cast<uint32_t *>(c.dst);
        const uint32_t *s = reinterpret_cast<const uint32_t *>(c.src);
        for (size_t i = first; i < c.bytes / 4; i += step) d[i] = s[i];
    } else {
        unsigned char *d = reinterpret_cast<unsigned char *>(c.dst);
        const unsigned char *s = reinterpret_cast<const unsigned char *>(c.src);
        for (size_t i = first; i < c.bytes; i += step) d[i] = s[i];
    }
}

extern "C" cudaError_t copy_batch(const struct copy_desc *descs, int n, uint64_t max_bytes, cudaStream_t stream) {
    if (n <= 0 || max_bytes == 0) return cudaSuccess;
    /* enough blocks along y that the largest copy takes about four 16-byte accesses per thread */
    uint64_t per_block = (uint64_t)COPY_THREADS * 16 * 4;
    uint64_t y = (max_bytes + per_block - 1) / per_block;
    if (y > 1024) y = 1024;
    copy_batch_kernel<<<dim3((unsigned)n, (unsigned)y), COPY_THREADS, 0, stream>>>(descs);
    return cudaGetLastError();
}
