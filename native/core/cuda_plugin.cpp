#include "cuda_plugin.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <type_traits>

#include "../cuda/ncod_cuda_abi.h"
#include "error.h"

#ifndef NCOD_CUDA_BUILD_NOTE
#define NCOD_CUDA_BUILD_NOTE "this build did not include the CUDA plugin"
#endif

namespace ncod {

namespace {

std::mutex g_directory_mutex;
std::string g_directory;

std::string plugin_path() {
  if (const char* env = std::getenv("NCOD_CUDA_PLUGIN"); env != nullptr && *env != '\0') return env;
  std::lock_guard<std::mutex> lock(g_directory_mutex);
  return g_directory.empty() ? kCudaPluginFileName : g_directory + "/" + kCudaPluginFileName;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The ABI version a plugin that refused ours implements, found by asking for each: get_api only compares numbers.
std::string plugin_versions(ncod_cuda_get_api_fn get_api) {
  constexpr int kHighestVersionAsked = 64;
  for (int v = 1; v <= kHighestVersionAsked; ++v)
    if (v != NCOD_CUDA_ABI_VERSION && get_api(v) != nullptr) return std::to_string(v);
  return "none of 1 to " + std::to_string(kHighestVersionAsked);
}

// LogitScoreSpec (core/backend.h) has ncod_cuda_logit_spec's layout with an enum for kind: checked here, field by
// field, so neither can change alone.
static_assert(std::is_standard_layout_v<LogitScoreSpec> && sizeof(LogitScoreSpec) == sizeof(ncod_cuda_logit_spec));
static_assert(std::is_same_v<std::underlying_type_t<LogitScore>, int>);
static_assert(offsetof(LogitScoreSpec, kind) == offsetof(ncod_cuda_logit_spec, kind) &&
              offsetof(LogitScoreSpec, temperature) == offsetof(ncod_cuda_logit_spec, temperature) &&
              offsetof(LogitScoreSpec, gamma) == offsetof(ncod_cuda_logit_spec, gamma) &&
              offsetof(LogitScoreSpec, top) == offsetof(ncod_cuda_logit_spec, top) &&
              offsetof(LogitScoreSpec, table) == offsetof(ncod_cuda_logit_spec, table));

ncod_cuda_logit_spec abi_spec(const LogitScoreSpec& s) {
  return ncod_cuda_logit_spec{static_cast<int>(s.kind), s.temperature, s.gamma, s.top, s.table};
}

// A plugin handle (ncod_cuda_abi.h: fitted state on the device) owned here and freed with the plugin's *_free.
template <class T>
using PluginHandle = std::unique_ptr<T, void (*)(T*)>;

// Calls create(args..., &handle, err, errlen) and owns the handle it makes.
template <class T, class... Params, class... Args>
PluginHandle<T> create_handle(const char* what, void (*free_fn)(T*), int (*create)(Params...), Args&&... args) {
  T* handle = nullptr;
  call_plugin(what, create, std::forward<Args>(args)..., &handle);
  return PluginHandle<T>(handle, free_fn);
}
#define NCOD_CUDA_CREATE(api, kind, ...) \
  create_handle(#kind "_create", (api)->kind##_free, (api)->kind##_create, __VA_ARGS__)

class CudaLinearHead final : public PreparedLinearHead {
 public:
  CudaLinearHead(const ncod_cuda_api* api, const LinearHead& head, size_t dim)
      : api_(api), handle_(NCOD_CUDA_CREATE(api, linear_head, head.weights, head.bias, head.classes, dim, head.clip)) {}
  void scores(const float* x, size_t rows, const LogitScoreSpec& spec, double* out) override {
    ncod_cuda_logit_spec c = abi_spec(spec);
    if (spec.kind == LogitScore::FdbdSum && spec.table == kept_table_ && kept_table_ != nullptr) c.table = nullptr;
    NCOD_CUDA_CALL(api_, linear_head_scores, handle_.get(), x, rows, &c, out);
  }
  void keep_pair_table(const double* table, size_t length) override {
    NCOD_CUDA_CALL(api_, linear_head_keep_table, handle_.get(), table, length);
    kept_table_ = table;
  }

 private:
  const ncod_cuda_api* api_;
  PluginHandle<ncod_cuda_linear_head> handle_;
  const double* kept_table_ = nullptr;  // the host table whose device copy the plugin keeps (a null spec table)
};

class CudaWhitenedCentres final : public PreparedWhitenedCentres {
 public:
  CudaWhitenedCentres(const ncod_cuda_api* api, const WhitenedCentres& w, size_t dim)
      : api_(api),
        handle_(NCOD_CUDA_CREATE(api, whitened_centres, w.shift, w.whitening, w.dims, dim, w.centres, w.count)) {}
  void min_sq_distances(const float* x, size_t rows, double* out) override {
    NCOD_CUDA_CALL(api_, whitened_centres_min_sq_distances, handle_.get(), x, rows, out);
  }

 private:
  const ncod_cuda_api* api_;
  PluginHandle<ncod_cuda_whitened_centres> handle_;
};

class CudaKnnBank final : public PreparedKnnBank {
 public:
  CudaKnnBank(const ncod_cuda_api* api, const float* bank, size_t bank_rows, size_t dim)
      : api_(api), handle_(NCOD_CUDA_CREATE(api, knn_bank, bank, bank_rows, dim)) {}
  // The plugin's C ABI takes no cancel flag: KnnBank::scores checks it between query chunks.
  void kth_similarity(const float* queries, size_t rows, size_t k, double* out, const RunContext&) override {
    NCOD_CUDA_CALL(api_, knn_bank_kth_similarity, handle_.get(), queries, rows, k, out);
  }

 private:
  const ncod_cuda_api* api_;
  PluginHandle<ncod_cuda_knn_bank> handle_;
};

class CudaPluginBackend final : public Backend {
 public:
  explicit CudaPluginBackend(const ncod_cuda_api* api) : api_(api) {}
  ~CudaPluginBackend() override { api_->shutdown(); }

  std::string name() const override { return "cuda"; }

  void accumulate_class_sums(const LabelledRows& rows, size_t num_classes, double* counts,
                             double* sums) override {
    NCOD_CUDA_CALL(api_, accumulate_class_sums, rows.x, rows.y, rows.rows, rows.dim, num_classes, counts, sums);
  }

  void accumulate_centred(const LabelledRows& rows, size_t num_classes, const CentredRequest& request) override {
    if (request.argmax.size() > NCOD_CUDA_MAX_ARGMAX) {
      fail(ErrorCode::InvalidArgument, "argmax blocks", "at most " + std::to_string(NCOD_CUDA_MAX_ARGMAX),
           std::to_string(request.argmax.size()));
    }
    ncod_cuda_centred_request c{};
    c.outputs = request;  // CentredRequest is ncod_cuda_centred_outputs plus the argmax blocks
    c.num_argmax = request.argmax.size();
    std::copy(request.argmax.begin(), request.argmax.end(), c.argmax);  // ArgmaxBlock is ncod_cuda_argmax
    NCOD_CUDA_CALL(api_, accumulate_centred, rows.x, rows.y, rows.rows, rows.dim, num_classes, &c);
  }

  TrainKernels* train_kernels() override { return train_kernels_.get(); }

  // Each NCOD_CUDA_BACKEND_KERNELS entry forwards to its plugin function with the same arguments.
#define NCOD_CUDA_UNPAREN(...) __VA_ARGS__
#define NCOD_CUDA_FORWARD_KERNEL(X, name, params, args, doc) \
  void name params override { NCOD_CUDA_CALL(api_, name, NCOD_CUDA_UNPAREN args); }
  NCOD_CUDA_BACKEND_KERNELS(NCOD_CUDA_FORWARD_KERNEL, _)
#undef NCOD_CUDA_FORWARD_KERNEL
#undef NCOD_CUDA_UNPAREN

  void score_logits(const float* logits, size_t rows, size_t classes, const LogitScoreSpec& spec,
                    double* out) override {
    const ncod_cuda_logit_spec c = abi_spec(spec);
    NCOD_CUDA_CALL(api_, score_logits, logits, rows, classes, &c, out);
  }

  // The plain kernels are the prepared ones used once: one code path, in the plugin too.
  void linear_scores(const float* x, size_t rows, size_t dim, const LinearHead& head, const LogitScoreSpec& spec,
                     double* out) override {
    if (rows > 0) prepare_linear_head(head, dim)->scores(x, rows, spec, out);
  }

  void min_whitened_sq_distances(const float* x, size_t rows, size_t dim, const WhitenedCentres& w,
                                 double* out) override {
    if (rows > 0) prepare_whitened_centres(w, dim)->min_sq_distances(x, rows, out);
  }

  void knn_kth_similarity(const float* queries, size_t rows, const float* bank, size_t bank_rows, size_t dim,
                          size_t k, double* out, const RunContext& context) override {
    if (rows > 0) prepare_knn_bank(bank, bank_rows, dim)->kth_similarity(queries, rows, k, out, context);
  }

  // The fitted state goes to the device once, here; each batch then sends only its rows (ncod_cuda_abi.h version 7).
  std::unique_ptr<PreparedLinearHead> prepare_linear_head(const LinearHead& head, size_t dim) override {
    return std::make_unique<CudaLinearHead>(api_, head, dim);
  }
  std::unique_ptr<PreparedWhitenedCentres> prepare_whitened_centres(const WhitenedCentres& w, size_t dim) override {
    return std::make_unique<CudaWhitenedCentres>(api_, w, dim);
  }
  std::unique_ptr<PreparedKnnBank> prepare_knn_bank(const float* bank, size_t bank_rows, size_t dim) override {
    return std::make_unique<CudaKnnBank>(api_, bank, bank_rows, dim);
  }

 private:
  const ncod_cuda_api* api_;
  std::unique_ptr<TrainKernels> train_kernels_ = make_cuda_train_kernels(api_);
};

}  // namespace

ErrorCode error_for_cuda_status(int status) {
  switch (status) {
    case NCOD_CUDA_OUT_OF_MEMORY: return ErrorCode::OutOfMemory;
    case NCOD_CUDA_INVALID_ARGUMENT: return ErrorCode::InvalidArgument;
    case NCOD_CUDA_NO_DEVICE: return ErrorCode::BackendUnavailable;
    default: return ErrorCode::Backend;  // NCOD_CUDA_DRIVER_ERROR, NCOD_CUDA_INTERNAL_ERROR, any newer status
  }
}

void raise_cuda_error(const char* what, int status, const char* err) {
  throw Error(error_for_cuda_status(status), std::string("CUDA ") + what + " failed: " + err);
}

void set_cuda_plugin_directory(const std::string& directory) {
  std::lock_guard<std::mutex> lock(g_directory_mutex);
  g_directory = directory;
}

std::unique_ptr<Backend> load_cuda_backend(std::string& reason, std::string& device) {
  const std::string path = plugin_path();
  if (!file_exists(path)) {
    reason = std::string("CUDA plugin not found at ") + path + " (" NCOD_CUDA_BUILD_NOTE ")";
    return nullptr;
  }
  // RTLD_LOCAL keeps the plugin's CUDA symbols out of the global namespace. The handle is never closed:
  // CUDA runtimes do not support being unloaded and reloaded within one process.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = ::dlerror();
    reason = std::string("cannot load the CUDA plugin (missing CUDA runtime or driver libraries?): ") +
             (err != nullptr ? err : "unknown dlopen error");
    return nullptr;
  }
  auto get_api = reinterpret_cast<ncod_cuda_get_api_fn>(::dlsym(handle, "ncod_cuda_get_api"));
  if (get_api == nullptr) {
    reason = path + " is not an ncod CUDA plugin (no ncod_cuda_get_api symbol)";
    return nullptr;
  }
  const ncod_cuda_api* api = get_api(NCOD_CUDA_ABI_VERSION);
  if (api == nullptr || api->abi_version != NCOD_CUDA_ABI_VERSION) {
    reason = "CUDA plugin ABI mismatch: expected version " + std::to_string(NCOD_CUDA_ABI_VERSION) + ", got " +
             (api == nullptr ? plugin_versions(get_api) : std::to_string(api->abi_version)) + " (" + path +
             " was built from another ncod version; rebuild it with this addon)";
    return nullptr;
  }
  char err[512] = {0};
  if (api->init(err, sizeof err) != NCOD_CUDA_OK) {
    reason = err;
    return nullptr;
  }
  char name[512] = {0};
  if (api->device_name(name, sizeof name, err, sizeof err) == 0) device = name;
  return std::make_unique<CudaPluginBackend>(api);
}

}  // namespace ncod
