// The emulated CUDA runtime and cuBLAS (see build.sh): block scheduler over fibers, device memory with bounds
// checks, failure knobs, and plain-loop BLAS with cuBLAS's column-major conventions.
#include <cuda_runtime.h>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include "blas.h"
#include "runtime.h"
thread_local uint3 threadIdx, blockIdx;
thread_local dim3 blockDim, gridDim;
thread_local EmuBarrier* tl_bar;
thread_local EmuWarp* tl_warp;
thread_local unsigned long long emu_progress;
namespace {
struct EmuFiber { ucontext_t ctx; jmp_buf jb; uint3 idx; bool started = false, done = false; };
thread_local jmp_buf emu_sched;
thread_local EmuFiber* emu_current;
thread_local const std::function<void()>* emu_body;
constexpr size_t kStack = 256 * 1024;
thread_local std::vector<std::unique_ptr<char[]>> emu_stacks;
void emu_entry() {
  (*emu_body)();
  emu_current->done = true;
  ++emu_progress;
  tl_bar->arrive_and_drop();
  tl_warp->bar.arrive_and_drop();
  _longjmp(emu_sched, 1);
}
}
void emu_yield() { if (!_setjmp(emu_current->jb)) _longjmp(emu_sched, 1); }
void emu_run(dim3 g, dim3 b, const std::function<void()>& body) {
  const unsigned nt = b.x * b.y * b.z;
  while (emu_stacks.size() < nt) emu_stacks.emplace_back(new char[kStack]);
  std::vector<EmuFiber> fibers(nt);
  std::vector<EmuWarp> warps(nt / 32);
  EmuBarrier bar;
  emu_body = &body;
  blockDim = b; gridDim = g; tl_bar = &bar;
  for (unsigned by = 0; by < g.y; ++by) for (unsigned bx = 0; bx < g.x; ++bx) {
    blockIdx = {bx, by, 0};
    bar = EmuBarrier{int(nt)};
    for (auto& w : warps) w.bar = EmuBarrier{32};
    for (unsigned t = 0; t < nt; ++t) {
      EmuFiber& f = fibers[t];
      f = EmuFiber{};
      f.idx = {t % b.x, (t / b.x) % b.y, t / (b.x * b.y)};
      getcontext(&f.ctx);
      f.ctx.uc_stack.ss_sp = emu_stacks[t].get();
      f.ctx.uc_stack.ss_size = kStack;
      f.ctx.uc_link = nullptr;
      makecontext(&f.ctx, emu_entry, 0);
    }
    unsigned alive = nt;
    int idle = 0;
    while (alive > 0) {
      const unsigned long long before = emu_progress;
      for (unsigned t = 0; t < nt; ++t) {
        EmuFiber& f = fibers[t];
        if (f.done) continue;
        threadIdx = f.idx; tl_warp = &warps[t / 32]; emu_current = &f;
        if (!_setjmp(emu_sched)) { if (!f.started) { f.started = true; setcontext(&f.ctx); } else _longjmp(f.jb, 1); }
        if (f.done) --alive;
      }
      if (emu_progress == before && ++idle > 3) { std::fprintf(stderr, "emu: deadlock (non-uniform barrier?)\n"); std::abort(); }
      if (emu_progress != before) idle = 0;
    }
  }
}
size_t emu_dyn_smem_limit = 48 * 1024;
cudaError_t emu_last_error = cudaSuccess;
// knobs
int emu_device_count = 1; cudaError_t emu_count_err = cudaSuccess;
long emu_malloc_fail_at = -1, emu_malloc_calls = 0;
cudaError_t emu_sync_err = cudaSuccess;
int emu_syrk_fail = 0;
// Leaked, like the real runtime's state: the addon frees device memory from its own exit handlers (the CUDA backend's
// shutdown), which may run after this library's static destructors.
std::map<void*, size_t>& emu_live = *new std::map<void*, size_t>; std::mutex emu_mu;
int emu_current_device = -1; int emu_streams = 0;
static cudaError_t ret(cudaError_t e) { if (e) emu_last_error = e; return e; }
cudaError_t cudaGetDevice(int* d) { *d = emu_current_device < 0 ? 0 : emu_current_device; return cudaSuccess; }
cudaError_t cudaSetDevice(int d) { emu_current_device = d; return cudaSuccess; }
cudaError_t cudaGetDeviceCount(int* n) { if (emu_count_err) return ret(emu_count_err); *n = emu_device_count; return cudaSuccess; }
cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr, int) { *v = 2; return cudaSuccess; }
cudaError_t cudaGetLastError() { cudaError_t e = emu_last_error; emu_last_error = cudaSuccess; return e; }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int) { std::memset(p, 0, sizeof *p); std::strcpy(p->name, "Emulated GPU"); p->major = 9; p->minor = 0; p->totalGlobalMem = size_t(80) << 30; return cudaSuccess; }
// $NCOD_EMU_MAX_ALLOC: a device allocation of more bytes fails as out of memory (a device smaller than the request).
static const size_t emu_max_alloc = [] { const char* v = std::getenv("NCOD_EMU_MAX_ALLOC"); return v && *v ? std::strtoull(v, nullptr, 10) : ~size_t{0}; }();
cudaError_t cudaMalloc(void** p, size_t n) {
  if (emu_malloc_calls++ == emu_malloc_fail_at || n > emu_max_alloc) return ret(cudaErrorMemoryAllocation);
  if (n == 0) return ret(cudaErrorInvalidValue);
  *p = std::malloc(n); std::lock_guard l(emu_mu); emu_live[*p] = n; return cudaSuccess; }
cudaError_t cudaFree(void* p) { if (!p) return cudaSuccess; std::lock_guard l(emu_mu);
  if (!emu_live.erase(p)) { std::fprintf(stderr, "bad free\n"); std::abort(); } std::free(p); return cudaSuccess; }
static void check_dev(const void* p, size_t n) { std::lock_guard l(emu_mu); auto it = emu_live.upper_bound((void*)p);
  if (it == emu_live.begin()) { std::fprintf(stderr, "not a device ptr\n"); std::abort(); } --it;
  if ((const char*)p + n > (const char*)it->first + it->second) { std::fprintf(stderr, "device range overflow\n"); std::abort(); } }
cudaError_t cudaMemsetAsync(void* p, int v, size_t n, cudaStream_t) { check_dev(p, n); std::memset(p, v, n); return cudaSuccess; }
// $NCOD_EMU_H2D_LOG names a file that gets one line per host-to-device copy, its size in bytes, so a test can see
// which arrays crossed how often (test/cuda-emulator/upload-once.test.ts).
static void log_h2d(size_t n) {
  static FILE* log = [] { const char* p = std::getenv("NCOD_EMU_H2D_LOG"); return p && *p ? std::fopen(p, "a") : nullptr; }();
  if (log) { std::fprintf(log, "%zu\n", n); std::fflush(log); } }
cudaError_t cudaMemcpyAsync(void* d, const void* s, size_t n, cudaMemcpyKind k, cudaStream_t) {
  if (k == cudaMemcpyHostToDevice) { check_dev(d, n); log_h2d(n); } else check_dev(s, n); std::memcpy(d, s, n); return cudaSuccess; }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) { ++emu_streams; *s = (cudaStream_t)0x1234; return cudaSuccess; }
cudaError_t cudaStreamDestroy(cudaStream_t) { --emu_streams; return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { if (emu_sync_err) return ret(emu_sync_err); return cudaSuccess; }
const char* cudaGetErrorString(cudaError_t e) { static thread_local std::string s; s = "emu error " + std::to_string(int(e)); return s.c_str(); }
const char* cudaGetErrorName(cudaError_t e) { static thread_local std::string s; s = "cudaError" + std::to_string(int(e)); return s.c_str(); }
// CPU Blas honouring "beta == 0: C not read"
int emu_handles = 0;
namespace ncod::cuda {
Blas::~Blas() { destroy(); }
void Blas::create(cudaStream_t) { if (!handle_) { handle_ = this; ++emu_handles; } }
void Blas::destroy() noexcept { if (handle_) { handle_ = nullptr; --emu_handles; } }
void Blas::dsyrk_accumulate(int n, int k, const double* a, int lda, double beta, double* c, int ldc) {
  if (emu_syrk_fail) fail(NCOD_CUDA_DRIVER_ERROR, "cublasDsyrk: CUBLAS_STATUS_EXECUTION_FAILED");
  check_dev(a, size_t(lda) * k * 8); check_dev(c, size_t(ldc) * n * 8);
  for (int col = 0; col < n; ++col) for (int r = 0; r <= col; ++r) {
    double s = 0; for (int q = 0; q < k; ++q) s += a[r + size_t(q) * lda] * a[col + size_t(q) * lda];
    double& cc = c[r + size_t(col) * ldc]; cc = beta == 0.0 ? s : beta * cc + s; } }
static double el(const double* a, int lda, bool t, int r, int c) { return t ? a[c + size_t(r) * lda] : a[r + size_t(c) * lda]; }
static float el(const float* a, int lda, bool t, int r, int c) { return t ? a[c + size_t(r) * lda] : a[r + size_t(c) * lda]; }
int emu_gemm_calls = 0;
template <class T> static void gemm(bool ta, bool tb, int m, int n, int k, const T* a, int lda, const T* b, int ldb, T* c, int ldc, T beta = 0) {
  ++emu_gemm_calls;
  if (m < 1 || n < 1 || k < 1 || lda < (ta ? k : m) || ldb < (tb ? n : k) || ldc < m) { std::fprintf(stderr, "bad gemm dims\n"); std::abort(); }
  check_dev(a, size_t(lda) * (ta ? m : k) * sizeof(T)); check_dev(b, size_t(ldb) * (tb ? k : n) * sizeof(T)); check_dev(c, size_t(ldc) * n * sizeof(T));
  for (int j = 0; j < n; ++j) for (int i = 0; i < m; ++i) { T s = 0; for (int q = 0; q < k; ++q) s += el(a, lda, ta, i, q) * el(b, ldb, tb, q, j);
    T& cc = c[i + size_t(j) * ldc]; cc = beta == 0 ? s : beta * cc + s; } }
void Blas::sgemm(Op ta, Op tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc) {
  gemm(ta == Op::T, tb == Op::T, m, n, k, a, lda, b, ldb, c, ldc); }
void Blas::sgemm(Op ta, Op tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  gemm(ta == Op::T, tb == Op::T, m, n, k, a, lda, b, ldb, c, ldc, beta); }
void Blas::dgemm(Op ta, Op tb, int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c, int ldc) {
  gemm(ta == Op::T, tb == Op::T, m, n, k, a, lda, b, ldb, c, ldc); }
}
