// An array of T in a TrainKernels' memory (device memory on a GPU), freed when it goes out of scope.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "error.h"
#include "train_kernels.h"

namespace ncod {

template <class T>
class KernelBuffer {
 public:
  KernelBuffer() = default;
  KernelBuffer(TrainKernels& k, size_t n)
      : k_(&k), n_(n), p_(n == 0 ? nullptr : static_cast<T*>(k.allocate(bytes(n)))) {}
  ~KernelBuffer() {
    if (p_ != nullptr) k_->release(p_);
  }
  KernelBuffer(KernelBuffer&& o) noexcept
      : k_(o.k_), n_(std::exchange(o.n_, 0)), p_(std::exchange(o.p_, nullptr)) {}
  KernelBuffer& operator=(KernelBuffer&& o) noexcept {
    std::swap(k_, o.k_);
    std::swap(n_, o.n_);
    std::swap(p_, o.p_);
    return *this;
  }
  KernelBuffer(const KernelBuffer&) = delete;
  KernelBuffer& operator=(const KernelBuffer&) = delete;

  T* data() const { return p_; }
  size_t size() const { return n_; }

  // Copies n elements from the host to elements [offset, offset + n) of this buffer, or back.
  void upload(const T* host, size_t n, size_t offset = 0) {
    check_range(n, offset);
    if (n > 0) k_->upload(p_ + offset, host, bytes(n));
  }
  void download(T* host, size_t n, size_t offset = 0) const {
    check_range(n, offset);
    if (n > 0) k_->download(host, p_ + offset, bytes(n));
  }

 private:
  static size_t bytes(size_t n) {
    if (n > size_t(-1) / sizeof(T)) throw Error(ErrorCode::OutOfMemory, "kernel buffer size overflows size_t");
    return n * sizeof(T);
  }
  void check_range(size_t n, size_t offset) const {
    if (offset > n_ || n > n_ - offset) {
      fail(ErrorCode::InvalidArgument, "kernel buffer range", "within " + std::to_string(n_) + " elements",
           std::to_string(offset) + " + " + std::to_string(n));
    }
  }

  TrainKernels* k_ = nullptr;
  size_t n_ = 0;
  T* p_ = nullptr;
};

}  // namespace ncod
