#pragma once
// CPU emulation of the CUDA runtime for the plugin's tests: every CUDA thread of a block is a fiber on the calling OS
// thread (makecontext to start, _setjmp/_longjmp to switch), __syncthreads and warp shuffles are cooperative barriers.
#include "cuda_runtime_api.h"
#include <ucontext.h>
#include <setjmp.h>
#include <cassert>
#include <cmath>
using std::isfinite; using std::isnan; using std::isinf;
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <tuple>
#include <vector>
#include <atomic>
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __align__(n) alignas(n)
#define __launch_bounds__(n)
#define __restrict__
extern thread_local uint3 threadIdx, blockIdx;
extern thread_local dim3 blockDim, gridDim;
extern size_t emu_dyn_smem_limit;
extern cudaError_t emu_last_error;
void emu_yield();
extern thread_local unsigned long long emu_progress;
struct EmuBarrier {
  int expected = 0, arrived = 0; unsigned gen = 0;
  void arrive_and_wait() { const unsigned g = gen; if (++arrived == expected) { arrived = 0; ++gen; ++emu_progress; return; } while (gen == g) emu_yield(); }
  void arrive_and_drop() { --expected; if (expected > 0 && arrived == expected) { arrived = 0; ++gen; ++emu_progress; } }
};
struct EmuWarp { EmuBarrier bar; unsigned long long slot[32]; };
extern thread_local EmuBarrier* tl_bar;
extern thread_local EmuWarp* tl_warp;
#define __syncthreads() tl_bar->arrive_and_wait()
template <class T> T __shfl_down_sync(unsigned mask, T v, int off) {
  assert(mask == 0xffffffffu); static_assert(sizeof(T) <= 8);
  const unsigned lane = (threadIdx.x + threadIdx.y * blockDim.x) % 32;
  unsigned long long raw = 0; std::memcpy(&raw, &v, sizeof(T));
  tl_warp->slot[lane] = raw; tl_warp->bar.arrive_and_wait();
  unsigned long long got = lane + off < 32 ? tl_warp->slot[lane + off] : raw;
  tl_warp->bar.arrive_and_wait();
  T r; std::memcpy(&r, &got, sizeof(T)); return r; }
inline double __longlong_as_double(long long x) { double d; std::memcpy(&d, &x, 8); return d; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double atomicAdd(double* p, double v) { return std::atomic_ref<double>(*p).fetch_add(v); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  return std::atomic_ref<unsigned long long>(*p).fetch_add(v); }
template <class K>
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes*, K) { return cudaSuccess; }
// Runs body once per thread of each block (blocks in order, threads as fibers).
void emu_run(dim3 g, dim3 b, const std::function<void()>& body);
template <class K, class... A>
void emu_launch(K kernel, dim3 g, dim3 b, size_t smem, cudaStream_t, A... args) {
  if (g.x == 0 || g.y == 0 || b.x * b.y * b.z > 1024 || g.y > 65535 || smem > emu_dyn_smem_limit) {
    emu_last_error = cudaErrorInvalidConfiguration; return; }
  assert((b.x * b.y * b.z) % 32 == 0);
  emu_run(g, b, [&] { kernel(args...); });
}
