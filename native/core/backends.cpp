// The backend registry: the CPU backend always, the CUDA backend loaded once, on first request.
#include <mutex>

#include "backend.h"
#include "cuda_plugin.h"
#include "error.h"
#include "train_kernels.h"

namespace ncod {

namespace {

struct CudaSlot {
  std::once_flag once;
  std::unique_ptr<Backend> backend;
  std::string reason;
  std::string device;
};

CudaSlot& cuda_slot() {
  static CudaSlot slot;
  std::call_once(slot.once, [] { slot.backend = load_cuda_backend(slot.reason, slot.device); });
  return slot;
}

Backend& cpu_backend() {
  static std::unique_ptr<Backend> cpu = make_cpu_backend();
  return *cpu;
}

}  // namespace

Backend& get_backend(BackendKind kind) {
  switch (kind) {
    case BackendKind::Cpu:
      return cpu_backend();
    case BackendKind::Cuda: {
      CudaSlot& slot = cuda_slot();
      if (!slot.backend) fail(ErrorCode::BackendUnavailable, "backend 'cuda'", "an available backend", slot.reason);
      return *slot.backend;
    }
  }
  fail(ErrorCode::InvalidArgument, "backend", "0 (cpu) or 1 (cuda)", std::to_string(static_cast<int>(kind)));
}

TrainKernels& get_train_kernels(BackendKind kind) {
  Backend& backend = get_backend(kind);
  TrainKernels* k = backend.train_kernels();
  if (k == nullptr) fail(ErrorCode::BackendUnavailable, "training on backend '" + backend.name() + "'", "a backend with training kernels", "none");
  return *k;
}

std::vector<BackendStatus> backend_statuses() {
  CudaSlot& cuda = cuda_slot();
  return {
      BackendStatus{"cpu", true, ""},
      BackendStatus{"cuda", cuda.backend != nullptr, cuda.backend ? cuda.device : cuda.reason},
  };
}

}  // namespace ncod
