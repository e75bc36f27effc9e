/* The C ABI between the ncod addon and its CUDA plugin (libncod_cuda.so).
 * The addon dlopen()s the plugin and calls ncod_cuda_get_api(NCOD_CUDA_ABI_VERSION); a plugin built for
 * another ABI version returns NULL. Plain C: no CUDA types cross this boundary.
 * Every function that takes err returns an ncod_cuda_status: NCOD_CUDA_OK, or another status with a NUL-terminated
 * reason in err[errlen]. The status says what kind of failure it was; the text is only for people. */
#ifndef NCOD_CUDA_ABI_H
#define NCOD_CUDA_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 3: OOD detector kernels; 4: training kernels on device memory; 5: entropy score (kind 4; fDBD/argmax tables now
 * kinds 5, 6); 6: functions return an ncod_cuda_status (was 0 / 1 with out-of-memory told only by the text);
 * 7: fitted state on the device: linear_head, whitened_centres and knn_bank create / score / free replace
 * linear_scores, min_whitened_sq_distances and knn_kth_similarity, which uploaded the model on every call;
 * 8: linear_head_keep_table: fDBD's classes×classes table kept with the head instead of uploaded per call. */
#define NCOD_CUDA_ABI_VERSION 8

/* What went wrong, returned by every function that takes err. Numbers are part of the ABI: append, never renumber. */
typedef enum ncod_cuda_status {
  NCOD_CUDA_OK = 0,
  NCOD_CUDA_INVALID_ARGUMENT = 1, /* a null pointer, a size that overflows or exceeds a cuBLAS limit, a bad request */
  NCOD_CUDA_OUT_OF_MEMORY = 2,    /* a device (cudaMalloc, cuBLAS) or host allocation failed */
  NCOD_CUDA_NO_DEVICE = 3,        /* no driver, no device, or no kernels for this device (init) */
  NCOD_CUDA_DRIVER_ERROR = 4,     /* any other CUDA runtime or cuBLAS failure, including a kernel fault */
  NCOD_CUDA_INTERNAL_ERROR = 5    /* an unexpected exception inside the plugin */
} ncod_cuda_status;

#define NCOD_CUDA_MAX_ARGMAX 4

/* out[i] = argmax_c scale·P[i, offset + c] + table[y_i·classes + c] over c < classes (first maximum wins).
 * Also the addon's ArgmaxBlock (core/backend.h). */
typedef struct ncod_cuda_argmax {
  size_t offset;
  size_t classes;
  double scale;
  const double* table; /* classes × classes, host */
  int32_t* out;        /* one int32 per row of the call, host */
} ncod_cuda_argmax;

/* What accumulate_centred computes from the centred rows z_i = x_i − means[y_i]; NULL / 0 skips an output.
 * Every output is host memory and is ADDED to (+=), except argmax outputs, which are written. The addon's
 * CentredRequest (core/backend.h) derives from ncod_cuda_centred_outputs, so the fields are declared here only. */
typedef struct ncod_cuda_centred_outputs {
  const double* means;          /* C×d float64 */
  double* scatter;              /* d×d float64, += ZᵀZ (full symmetric) */
  double* class_sq_norms;       /* C, += Σ_{y_i=c} ‖z_i‖² */
  const float* basis;           /* d×p row-major float32: P = Z·basis computed in float32 from the float64 z */
  size_t basis_cols;            /* p */
  double* projection_sq_sums;   /* sq_cols, += Σ_i P_ik² for k < sq_cols */
  size_t sq_cols;
} ncod_cuda_centred_outputs;

typedef struct ncod_cuda_centred_request {
  ncod_cuda_centred_outputs outputs;
  size_t num_argmax;            /* ≤ NCOD_CUDA_MAX_ARGMAX */
  ncod_cuda_argmax argmax[NCOD_CUDA_MAX_ARGMAX];
} ncod_cuda_centred_request;

/* Row-wise logit score: kind 0 MSP, 1 MaxLogit, 2 Energy, 3 GEN, 4 Entropy, 5 fDBD sum (table classes×classes),
 * 6 argmax minus offset (table classes). The addon's LogitScoreSpec (core/backend.h) has this layout, with an enum for
 * kind; core/cuda_plugin.cpp static_asserts that field by field. */
typedef struct ncod_cuda_logit_spec {
  int kind;
  double temperature;  /* Energy, Entropy, > 0 */
  double gamma;        /* GEN, > 0 */
  size_t top;          /* GEN: M in [1, classes] */
  const double* table; /* kinds 5 and 6, host float64; NULL otherwise */
} ncod_cuda_logit_spec;

/* AdamW hyper-parameters (train_adamw); the addon's AdamWParams (core/train_kernels.h) derives from it. */
typedef struct ncod_cuda_adamw {
  double lr, beta1, beta2, eps, weight_decay;
} ncod_cuda_adamw;

/* Fitted detector state kept on the device between calls (version 7): created from host arrays, which are copied
 * once and may be freed afterwards; scored against many row batches (only the rows and the scores cross per call);
 * freed by its *_free function, which accepts NULL. Opaque to the addon. A handle may be used from any thread (calls
 * are serialised inside the plugin) but must not be used after it is freed or after shutdown. */
typedef struct ncod_cuda_linear_head ncod_cuda_linear_head;         /* W, b and the clip of z = min(x, clip) Wᵀ + b */
typedef struct ncod_cuda_whitened_centres ncod_cuda_whitened_centres; /* shift, L and the whitened centres */
typedef struct ncod_cuda_knn_bank ncod_cuda_knn_bank;               /* the L2-normalised fit rows */

/* ---- Backend kernels: functions whose addon-side method (core/backend.h Backend) takes exactly these parameters and
 * returns nothing. K(X, name, (parameters), (argument names), "doc") for each. From this one entry are generated the ABI
 * function (the parameters plus err, errlen, returning an ncod_cuda_status, spliced into NCOD_CUDA_FUNCTIONS below),
 * the pure virtual Backend method and the CUDA backend's override that forwards to the plugin (core/cuda_plugin.cpp).
 * Adding such a kernel: one entry here and a version bump, its CPU override in cpu/cpu_backend.cpp, its
 * ncod_cuda_<name> in the plugin. */
#define NCOD_CUDA_BACKEND_KERNELS(K, X)                                                                                \
  K(X, gram, (const double* a, size_t m, const double* b, size_t n, size_t k, double* out), (a, m, b, n, k, out),        \
    "out (m×n) = A Bᵀ for row-major float64 host matrices A (m×k) and B (n×k)")

#define NCOD_CUDA_WITH_ERR(...) (__VA_ARGS__, char* err, size_t errlen)
#define NCOD_CUDA_KERNEL_AS_FUNCTION(X, name, params, args, doc) X(int, name, NCOD_CUDA_WITH_ERR params, doc)

/* ---- The functions, declared once. X(return type, name, (parameters), "one-line doc") for each; the ncod_cuda_api
 * struct below, the plugin's entry points and its table (native/cuda/entry_points.h, get_api.cpp) are generated from
 * this list, and the addon calls them by name (core/cuda_plugin.h NCOD_CUDA_CALL). Adding a function: one entry here,
 * its implementation ncod_cuda_<name> in the plugin, one forwarding line in the addon, and a version bump.
 *
 * Host inputs are validated by the addon; the plugin checks again only what protects memory. Training functions
 * (version 4, core/train_kernels.h) take device memory from train_alloc (offsets into it are fine) unless marked host;
 * they run in order on the plugin's stream, and train_upload, train_download and the two losses wait for it, so
 * errors of earlier kernels may be reported there. */
#define NCOD_CUDA_FUNCTIONS(X)                                                                                          \
  X(int, init, (char* err, size_t errlen),                                                                             \
    "checks for a driver and a device, creates the context and cuBLAS handle; safe to call twice")                     \
  X(int, device_name, (char* out, size_t outlen, char* err, size_t errlen),                                            \
    "writes a description of the device, e.g. \"NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)\"")                           \
  X(int, accumulate_class_sums,                                                                                        \
    (const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes, double* counts, double* sums,        \
     char* err, size_t errlen),                                                                                        \
    "counts[c] += #{y_i = c}, sums[c·d + j] += x_ij over y_i = c (x rows×d float32, y int32 in [0, C), host)")          \
  X(int, accumulate_centred,                                                                                           \
    (const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes,                                      \
     const ncod_cuda_centred_request* request, char* err, size_t errlen),                                              \
    "one pass over the rows centred at their class means; see ncod_cuda_centred_request")                             \
  NCOD_CUDA_BACKEND_KERNELS(NCOD_CUDA_KERNEL_AS_FUNCTION, X)                                                         \
  X(int, score_logits,                                                                                                 \
    (const float* logits, size_t rows, size_t classes, const ncod_cuda_logit_spec* spec, double* out, char* err,       \
     size_t errlen),                                                                                                   \
    "out[i] = score of logits row i (rows×classes float32)")                                                          \
  X(int, linear_head_create,                                                                                           \
    (const float* weights, const float* bias, size_t classes, size_t d, float clip, ncod_cuda_linear_head** out,      \
     char* err, size_t errlen),                                                                                        \
    "*out = the head on the device (W classes×d float32, b classes or NULL, clip +inf for none)")                     \
  X(int, linear_head_scores,                                                                                           \
    (ncod_cuda_linear_head* head, const float* x, size_t rows, const ncod_cuda_logit_spec* spec, double* out,         \
     char* err, size_t errlen),                                                                                        \
    "out[i] = score of min(x_i, clip) Wᵀ + b (x rows×d float32)")                                                     \
  X(int, linear_head_keep_table,                                                                                       \
    (ncod_cuda_linear_head* head, const double* table, size_t length, char* err, size_t errlen),                       \
    "keeps fDBD's table (kind 5, length classes², host) on the device; linear_head_scores of kind 5 with a NULL "     \
    "spec->table then uses it")                                                                                        \
  X(void, linear_head_free, (ncod_cuda_linear_head* head), "frees a linear_head_create head; NULL is ignored")      \
  X(int, whitened_centres_create,                                                                                      \
    (const double* shift, const double* whitening, size_t p, size_t d, const double* centres, size_t count,           \
     ncod_cuda_whitened_centres** out, char* err, size_t errlen),                                                      \
    "*out = the centres on the device (shift d, L p×d, centres count×p, float64 row-major)")                          \
  X(int, whitened_centres_min_sq_distances,                                                                            \
    (ncod_cuda_whitened_centres* centres, const float* x, size_t rows, double* out, char* err, size_t errlen),        \
    "out[i] = min_c ‖L (x_i − shift) − centres_c‖² (x rows×d float32)")                                             \
  X(void, whitened_centres_free, (ncod_cuda_whitened_centres* centres),                                                \
    "frees a whitened_centres_create model; NULL is ignored")                                                         \
  X(int, knn_bank_create,                                                                                              \
    (const float* bank, size_t bank_rows, size_t d, ncod_cuda_knn_bank** out, char* err, size_t errlen),              \
    "*out = the bank on the device (bank_rows × d float32 row-major, bank_rows >= 1)")                                \
  X(int, knn_bank_kth_similarity,                                                                                      \
    (ncod_cuda_knn_bank* bank, const float* queries, size_t rows, size_t k, double* out, char* err, size_t errlen),    \
    "out[i] = the k-th largest q_i · bank_j over the bank rows j (queries rows×d float32), exact")                    \
  X(void, knn_bank_free, (ncod_cuda_knn_bank* bank), "frees a knn_bank_create bank; NULL is ignored")                \
  X(int, train_alloc, (size_t bytes, void** out, char* err, size_t errlen),                                            \
    "*out = bytes of device memory (NULL for 0 bytes), freed by train_free")                                          \
  X(void, train_free, (void* p), "frees train_alloc memory after the stream is idle; NULL is ignored")                \
  X(int, train_upload, (void* dst, const void* host_src, size_t bytes, char* err, size_t errlen),                      \
    "copies host memory to the device and waits")                                                                      \
  X(int, train_download, (void* host_dst, const void* src, size_t bytes, char* err, size_t errlen),                    \
    "copies device memory to the host and waits")                                                                      \
  X(int, train_sgemm,                                                                                                  \
    (int trans_a, int trans_b, size_t m, size_t n, size_t k, const float* a, const float* b, float beta, float* c,     \
     char* err, size_t errlen),                                                                                        \
    "row-major C (m×n) = op(A)·op(B) + beta·C, op(A) m×k, op(B) k×n (float32, no TF32)")                             \
  X(int, train_bias_activation,                                                                                        \
    (float* y, const float* bias, size_t rows, size_t cols, int relu, char* err, size_t errlen),                       \
    "y (rows×cols) += bias per column, then ReLU when relu != 0")                                                     \
  X(int, train_activation_backward,                                                                                    \
    (float* dy, const float* y, size_t rows, size_t cols, int relu, float* db, char* err, size_t errlen),              \
    "dy *= [y > 0] when relu != 0; db (cols) = Σ_rows dy")                                                            \
  X(int, train_adamw,                                                                                                  \
    (float* p, const float* g, float* m, float* v, size_t n, const ncod_cuda_adamw* hp, int64_t step, char* err,       \
     size_t errlen),                                                                                                   \
    "torch.optim.AdamW on n elements; step >= 1")                                                                     \
  X(int, train_gather_rows,                                                                                            \
    (const float* x, const int32_t* y, size_t rows, size_t dim, const int32_t* order, size_t n, float* xb,             \
     int32_t* yb, char* err, size_t errlen),                                                                           \
    "xb (n×dim) = rows order[0..n) of x (rows×dim), yb = their labels")                                               \
  X(int, train_add, (float* y, const float* x, size_t n, char* err, size_t errlen), "y += x (n elements)")            \
  X(int, train_layer_norm_forward,                                                                                     \
    (const float* x, const float* gamma, const float* beta, size_t rows, size_t cols, int relu, float* y, float* mean, \
     float* rstd, char* err, size_t errlen),                                                                           \
    "LayerNorm of each row (eps 1e-5), y = γ·x̂ + β, then ReLU when relu != 0; mean and rstd (rows) saved")           \
  X(int, train_layer_norm_backward,                                                                                    \
    (const float* x, const float* mean, const float* rstd, const float* gamma, const float* y, const float* dy,        \
     size_t rows, size_t cols, int relu, float* dx, float* dgamma, float* dbeta, char* err, size_t errlen),            \
    "LayerNorm backward: dx, dgamma, dbeta from x, the saved mean/rstd, gamma, the forward output y and dy")          \
  X(int, train_cross_entropy_ls,                                                                                       \
    (const float* logits, const int32_t* y, size_t rows, size_t classes, double smoothing, float* dlogits,             \
     double* loss, size_t* correct, char* err, size_t errlen),                                                         \
    "label-smoothed cross-entropy: dlogits (device), *loss and *correct (host)")                                      \
  X(int, train_nn_entropy,                                                                                             \
    (const float* e, size_t rows, size_t d, double scale, float* de, double* loss, char* err, size_t errlen),          \
    "nearest-neighbour entropy of e (rows >= 2): de = scale·dL/de (device), *loss (host)")                            \
  X(int, train_etf_forward,                                                                                            \
    (const float* e, size_t rows, size_t d, size_t h, float* hidden, float* z, char* err, size_t errlen),              \
    "the frozen ETF projector d → h → d")                                                                             \
  X(int, train_etf_backward,                                                                                           \
    (const float* hidden, const float* z, const float* dz, size_t rows, size_t d, size_t h, float* de, char* err,      \
     size_t errlen),                                                                                                   \
    "the ETF projector's backward: de from dz")                                                                       \
  X(void, shutdown, (void), "frees device memory and handles")

typedef struct ncod_cuda_api {
  int abi_version;
#define NCOD_CUDA_API_MEMBER(ret, name, params, doc) ret(*name) params;
  NCOD_CUDA_FUNCTIONS(NCOD_CUDA_API_MEMBER)
#undef NCOD_CUDA_API_MEMBER
} ncod_cuda_api;

/* The plugin's one exported symbol. Returns NULL when requested_version is not the plugin's version. */
const ncod_cuda_api* ncod_cuda_get_api(int requested_version);
typedef const ncod_cuda_api* (*ncod_cuda_get_api_fn)(int requested_version);

#ifdef __cplusplus
}
#endif

#endif
