// The backend registry: one table naming every backend and how to load it. get_backend, get_train_kernels,
// backend_statuses and the binding's decoding of a backend name all read this table, nothing else.
#include <array>
#include <mutex>

#include "backend.h"
#include "cuda_plugin.h"
#include "error.h"
#include "train_kernels.h"

namespace ncod {

namespace {

// What a loader returns: the backend, or nullptr and why not; `detail` describes the device when it loaded.
struct Loaded {
  std::unique_ptr<Backend> backend;
  std::string detail;
};

struct BackendEntry {
  BackendKind kind;
  const char* name;  // as users and the binding write it
  Loaded (*load)();  // runs once, on first use; whether it returns a backend is the availability probe
};

Loaded load_cpu() { return {make_cpu_backend(), ""}; }

Loaded load_cuda() {
  std::string reason, device;
  std::unique_ptr<Backend> backend = load_cuda_backend(reason, device);
  const bool loaded = backend != nullptr;
  return {std::move(backend), loaded ? device : reason};
}

constexpr std::array<BackendEntry, 2> kBackends = {{
    {BackendKind::Cpu, "cpu", load_cpu},
    {BackendKind::Cuda, "cuda", load_cuda},
}};

// Entry i is BackendKind i, so a kind indexes the table.
constexpr bool table_in_kind_order() {
  for (size_t i = 0; i < kBackends.size(); ++i)
    if (static_cast<size_t>(kBackends[i].kind) != i) return false;
  return true;
}
static_assert(table_in_kind_order(), "kBackends must list BackendKind values in order");

struct Slot {
  std::once_flag once;
  Loaded loaded;
};

const BackendEntry& entry(BackendKind kind) {
  const auto i = static_cast<size_t>(kind);
  if (i >= kBackends.size()) {
    fail(ErrorCode::InvalidArgument, "backend", backend_name_list(), "kind " + std::to_string(static_cast<int>(kind)));
  }
  return kBackends[i];
}

// The entry's backend, loaded on the first call.
const Loaded& loaded(BackendKind kind) {
  static std::array<Slot, kBackends.size()> slots;
  const BackendEntry& e = entry(kind);
  Slot& slot = slots[static_cast<size_t>(kind)];
  std::call_once(slot.once, [&] { slot.loaded = e.load(); });
  return slot.loaded;
}

}  // namespace

BackendKind backend_named(const std::string& name, const std::string& what) {
  for (const BackendEntry& e : kBackends)
    if (name == e.name) return e.kind;
  fail(ErrorCode::InvalidArgument, what, backend_name_list(), "'" + name + "'");
}

std::string backend_name_list() {
  std::string out;
  for (size_t i = 0; i < kBackends.size(); ++i) {
    if (i > 0) out += i + 1 == kBackends.size() ? " or " : ", ";
    out += std::string("'") + kBackends[i].name + "'";
  }
  return out;
}

Backend& get_backend(BackendKind kind) {
  const Loaded& l = loaded(kind);
  if (!l.backend) {
    fail(ErrorCode::BackendUnavailable, std::string("backend '") + entry(kind).name + "'", "an available backend", l.detail);
  }
  return *l.backend;
}

TrainKernels& get_train_kernels(BackendKind kind) {
  Backend& backend = get_backend(kind);
  TrainKernels* k = backend.train_kernels();
  if (k == nullptr) fail(ErrorCode::BackendUnavailable, "training on backend '" + backend.name() + "'", "a backend with training kernels", "none");
  return *k;
}

std::vector<BackendStatus> backend_statuses() {
  std::vector<BackendStatus> out;
  for (const BackendEntry& e : kBackends) {
    const Loaded& l = loaded(e.kind);
    out.push_back(BackendStatus{e.name, l.backend != nullptr, l.detail});
  }
  return out;
}

}  // namespace ncod
