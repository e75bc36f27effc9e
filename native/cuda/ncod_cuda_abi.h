/* The C ABI between the ncod addon and its CUDA plugin (libncod_cuda.so).
 * The addon dlopen()s the plugin and calls ncod_cuda_get_api(NCOD_CUDA_ABI_VERSION); a plugin built for
 * another ABI version returns NULL. Plain C: no CUDA types cross this boundary.
 * Every function returns 0 on success, or non-zero and writes a NUL-terminated reason into err[errlen]. */
#ifndef NCOD_CUDA_ABI_H
#define NCOD_CUDA_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NCOD_CUDA_ABI_VERSION 1

typedef struct ncod_cuda_api {
  int abi_version;

  /* Checks for a driver and a device and creates the context and cuBLAS handle. Safe to call twice. */
  int (*init)(char* err, size_t errlen);

  /* Human-readable device description, e.g. "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)". */
  int (*device_name)(char* out, size_t outlen, char* err, size_t errlen);

  /* counts[c] += #{i : y[i] == c};  sums[c*d + j] += x[i*d + j] for y[i] == c.
   * x: rows×d float32 host memory, y: rows int32 host memory (already validated to lie in [0, C)).
   * counts (C) and sums (C×d) are float64 host memory. */
  int (*accumulate_class_sums)(const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                               double* counts, double* sums, char* err, size_t errlen);

  /* scatter += Σ_i (x_i − means[y_i]) (x_i − means[y_i])ᵀ, a full symmetric d×d float64 host matrix.
   * means: C×d float64 host memory. */
  int (*accumulate_within_scatter)(const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                                   const double* means, double* scatter, char* err, size_t errlen);

  /* Frees device memory and handles. */
  void (*shutdown)(void);
} ncod_cuda_api;

/* The plugin's one exported symbol. Returns NULL when requested_version is not the plugin's version. */
const ncod_cuda_api* ncod_cuda_get_api(int requested_version);
typedef const ncod_cuda_api* (*ncod_cuda_get_api_fn)(int requested_version);

#ifdef __cplusplus
}
#endif

#endif
