// trainKernel({backend, kernel, arrays, numbers}) -> Promise<{[name]: Float32Array | Int32Array | number}>:
// runs one training kernel (core/train_kernels.h) on a backend, for tests: the CPU kernels against float64
// references, the CUDA kernels against the CPU's. Inputs are copied into the backend's memory and outputs copied
// back; outputs start as NaN (−1 for int32) so an element a kernel fails to write shows. Arguments per kernel are
// listed in kKernels below (arrays by name, sizes and scalars in `numbers`).
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../core/backend.h"
#include "../core/error.h"
#include "../core/kernel_buffer.h"
#include "bindings.h"
#include "convert.h"
#include "js_errors.h"
#include "options_reader.h"
#include "promise_worker.h"
#include "exports.h"

namespace ncod::binding {

namespace {

struct KernelData {
  std::map<std::string, std::vector<float>> floats;
  std::map<std::string, std::vector<int32_t>> ints;
  std::map<std::string, double> numbers;
};

// One kernel call: named inputs uploaded to kernel memory, outputs registered for download.
class KernelCall {
 public:
  KernelCall(TrainKernels& k, const KernelData& in) : k_(k), in_(in) {}

  size_t size(const std::string& key, size_t max = size_t(1) << 30) const {
    const double v = number(key);
    if (!(v >= 0) || v != std::floor(v) || v > double(max)) {
      fail(ErrorCode::InvalidArgument, key, "an integer in [0, " + std::to_string(max) + "]", std::to_string(v));
    }
    return static_cast<size_t>(v);
  }
  double number(const std::string& key) const {
    auto it = in_.numbers.find(key);
    if (it == in_.numbers.end()) fail(ErrorCode::InvalidArgument, "numbers." + key, "a finite number", "none");
    return it->second;
  }
  bool flag(const std::string& key) const { return size(key, 1) == 1; }

  const float* floats(const std::string& key, size_t n) { return upload(f_, in_.floats, key, n); }
  const int32_t* ints(const std::string& key, size_t n) { return upload(i_, in_.ints, key, n); }
  // An input that the kernel overwrites: returned under the same name.
  float* inout(const std::string& key, size_t n) {
    float* p = upload(f_, in_.floats, key, n);
    f_out_.emplace_back(key, f_.size() - 1);
    return p;
  }
  float* out(const std::string& key, size_t n) {
    std::vector<float> nan(n, std::nanf(""));
    f_.emplace_back(k_, n).upload(nan.data(), n);
    f_out_.emplace_back(key, f_.size() - 1);
    return f_.back().data();
  }
  int32_t* out_ints(const std::string& key, size_t n) {
    std::vector<int32_t> poison(n, -1);
    i_.emplace_back(k_, n).upload(poison.data(), n);
    i_out_.emplace_back(key, i_.size() - 1);
    return i_.back().data();
  }
  void result(const std::string& key, double v) { results_.numbers[key] = v; }

  // The outputs, copied back to the host.
  KernelData finish() {
    for (const auto& [key, q] : f_out_) download(f_[q], results_.floats[key]);
    for (const auto& [key, q] : i_out_) download(i_[q], results_.ints[key]);
    return std::move(results_);
  }

 private:
  template <class T>
  T* upload(std::vector<KernelBuffer<T>>& buffers, const std::map<std::string, std::vector<T>>& from,
            const std::string& key, size_t n) {
    auto it = from.find(key);
    if (it == from.end()) fail(ErrorCode::InvalidArgument, "arrays." + key, "a typed array", "none");
    if (it->second.size() != n) fail(ErrorCode::Shape, key, std::to_string(n) + " elements", std::to_string(it->second.size()));
    buffers.emplace_back(k_, n).upload(it->second.data(), n);
    return buffers.back().data();
  }

  template <class T>
  static void download(const KernelBuffer<T>& from, std::vector<T>& to) {
    to.resize(from.size());
    from.download(to.data(), to.size());
  }

  TrainKernels& k_;
  const KernelData& in_;
  KernelData results_;
  std::vector<KernelBuffer<float>> f_;
  std::vector<KernelBuffer<int32_t>> i_;
  std::vector<std::pair<std::string, size_t>> f_out_, i_out_;
};

void at_least(size_t v, size_t min, const char* what) {
  if (v < min) fail(ErrorCode::InvalidArgument, what, "at least " + std::to_string(min), std::to_string(v));
}

using Kernel = std::function<void(TrainKernels&, KernelCall&)>;

const std::map<std::string, Kernel> kKernels = {
    {"sgemm",  // C (M×N) = op(A)·op(B) + beta·C
     [](TrainKernels& k, KernelCall& c) {
       const size_t M = c.size("M"), N = c.size("N"), K = c.size("K");
       at_least(K, 1, "K");
       const float* A = c.floats("a", M * K);
       const float* B = c.floats("b", K * N);
       k.sgemm(c.flag("transA"), c.flag("transB"), M, N, K, A, B, float(c.number("beta")), c.inout("c", M * N));
     }},
    {"biasActivation",  // y (rows×cols) += bias, ReLU when relu
     [](TrainKernels& k, KernelCall& c) {
       const size_t rows = c.size("rows"), cols = c.size("cols");
       const float* bias = c.floats("bias", cols);
       k.bias_activation(c.inout("y", rows * cols), bias, rows, cols, c.flag("relu"));
     }},
    {"activationBackward",  // dy *= [y > 0] when relu; db = column sums of dy
     [](TrainKernels& k, KernelCall& c) {
       const size_t rows = c.size("rows"), cols = c.size("cols");
       const bool relu = c.flag("relu");
       const float* y = relu ? c.floats("y", rows * cols) : nullptr;
       float* dy = c.inout("dy", rows * cols);
       k.activation_backward(dy, y, rows, cols, relu, c.out("db", cols));
     }},
    {"adamw",  // p, m, v updated from g
     [](TrainKernels& k, KernelCall& c) {
       const size_t n = c.size("n");
       const int64_t step = static_cast<int64_t>(c.size("step", size_t(1) << 52));
       at_least(size_t(step), 1, "step");
       const AdamWParams hp{c.number("lr"), c.number("beta1"), c.number("beta2"), c.number("eps"), c.number("weightDecay")};
       const float* g = c.floats("g", n);
       k.adamw(c.inout("p", n), g, c.inout("m", n), c.inout("v", n), n, hp, step);
     }},
    {"gatherRows",  // xb, yb = rows order of x, y
     [](TrainKernels& k, KernelCall& c) {
       const size_t rows = c.size("rows"), dim = c.size("dim"), n = c.size("n");
       const float* x = c.floats("x", rows * dim);
       const int32_t* y = c.ints("y", rows);
       const int32_t* order = c.ints("order", n);
       k.gather_rows(x, y, rows, dim, order, n, c.out("xb", n * dim), c.out_ints("yb", n));
     }},
    {"add",  // y += x
     [](TrainKernels& k, KernelCall& c) {
       const size_t n = c.size("n");
       const float* x = c.floats("x", n);
       k.add(c.inout("y", n), x, n);
     }},
    {"layerNormForward",  // y (rows×cols), mean, rstd (rows)
     [](TrainKernels& k, KernelCall& c) {
       const size_t rows = c.size("rows"), cols = c.size("cols");
       at_least(cols, 1, "cols");
       const float* x = c.floats("x", rows * cols);
       const float* gamma = c.floats("gamma", cols);
       const float* beta = c.floats("beta", cols);
       k.layer_norm_forward(x, gamma, beta, rows, cols, c.flag("relu"), c.out("y", rows * cols), c.out("mean", rows),
                            c.out("rstd", rows));
     }},
    {"layerNormBackward",  // dx, dgamma, dbeta
     [](TrainKernels& k, KernelCall& c) {
       const size_t rows = c.size("rows"), cols = c.size("cols");
       at_least(cols, 1, "cols");
       const float* x = c.floats("x", rows * cols);
       const float* mean = c.floats("mean", rows);
       const float* rstd = c.floats("rstd", rows);
       const float* gamma = c.floats("gamma", cols);
       const float* y = c.floats("y", rows * cols);
       const float* dy = c.floats("dy", rows * cols);
       k.layer_norm_backward(x, mean, rstd, gamma, y, dy, rows, cols, c.flag("relu"), c.out("dx", rows * cols),
                             c.out("dgamma", cols), c.out("dbeta", cols));
     }},
    {"crossEntropyLs",  // loss, correct, dlogits
     [](TrainKernels& k, KernelCall& c) {
       const size_t rows = c.size("rows"), classes = c.size("classes");
       at_least(rows, 1, "rows");
       at_least(classes, 1, "classes");
       const float* logits = c.floats("logits", rows * classes);
       const int32_t* labels = c.ints("labels", rows);
       size_t correct = 0;
       c.result("loss", k.cross_entropy_ls(logits, labels, rows, classes, c.number("smoothing"),
                                           c.out("dlogits", rows * classes), &correct));
       c.result("correct", double(correct));
     }},
    {"nnEntropy",  // loss, de = scale·dL/de
     [](TrainKernels& k, KernelCall& c) {
       const size_t rows = c.size("rows", size_t(1) << 15), dim = c.size("dim");
       at_least(rows, 2, "rows");
       at_least(dim, 1, "dim");
       const float* e = c.floats("e", rows * dim);
       c.result("loss", k.nn_entropy(e, rows, dim, c.number("scale"), c.out("de", rows * dim)));
     }},
    {"etfForward",  // hidden (rows×width), z (rows×dim)
     [](TrainKernels& k, KernelCall& c) {
       const size_t rows = c.size("rows"), dim = c.size("dim"), width = c.size("width");
       at_least(dim, 2, "dim");
       at_least(width, dim, "width");
       const float* e = c.floats("e", rows * dim);
       k.etf_projector_forward(e, rows, dim, width, c.out("hidden", rows * width), c.out("z", rows * dim));
     }},
    {"etfBackward",  // de from hidden, z and dz
     [](TrainKernels& k, KernelCall& c) {
       const size_t rows = c.size("rows"), dim = c.size("dim"), width = c.size("width");
       at_least(dim, 2, "dim");
       at_least(width, dim, "width");
       const float* hidden = c.floats("hidden", rows * width);
       const float* z = c.floats("z", rows * dim);
       const float* dz = c.floats("dz", rows * dim);
       k.etf_projector_backward(hidden, z, dz, rows, dim, width, c.out("de", rows * dim));
     }},
};

std::vector<std::string> kernel_names() {
  std::vector<std::string> names;
  for (const auto& entry : kKernels) names.push_back(entry.first);
  return names;
}

KernelData parse_data(Napi::Env env, Napi::Value arrays, Napi::Value numbers) {
  if (!arrays.IsObject() || !numbers.IsObject()) throw_error(env, ErrorCode::InvalidArgument, "arrays, numbers: expected objects");
  KernelData data;
  Napi::Object a = arrays.As<Napi::Object>();
  Napi::Array keys = a.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string key = keys.Get(i).ToString();
    Napi::Value v = a.Get(key);
    if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
      auto view = int32_array(env, v, key.c_str());
      data.ints[key].assign(view.data, view.data + view.length);
    } else {
      auto view = float32_array(env, v, key.c_str());
      data.floats[key].assign(view.data, view.data + view.length);
    }
  }
  Napi::Object n = numbers.As<Napi::Object>();
  keys = n.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string key = keys.Get(i).ToString();
    Napi::Value v = n.Get(key);
    if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) {
      throw_error(env, ErrorCode::InvalidArgument, "numbers." + key + ": expected a finite number");
    }
    data.numbers[key] = v.As<Napi::Number>().DoubleValue();
  }
  return data;
}

}  // namespace

Napi::Value TrainKernel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "trainKernel");
    const BackendKind kind = o.backend();
    auto kernel = std::next(kKernels.begin(), static_cast<std::ptrdiff_t>(o.one_of("kernel", kernel_names())));
    auto data = std::make_shared<KernelData>(parse_data(env, o.value("arrays"), o.value("numbers")));
    auto results = std::make_shared<KernelData>();
    const Kernel run = kernel->second;
    return PromiseWorker::Start(
        env, "ncod.trainKernel", {}, nullptr, Napi::Function(),
        [=](const RunContext&) {
          TrainKernels& k = get_train_kernels(kind);
          KernelCall call(k, *data);  // its kernel buffers are freed here, on the worker thread
          run(k, call);
          *results = call.finish();
        },
        [results](Napi::Env env) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          for (const auto& [key, v] : results->floats) {
            Napi::Float32Array a = Napi::Float32Array::New(env, v.size());
            std::copy(v.begin(), v.end(), a.Data());
            out.Set(key, a);
          }
          for (const auto& [key, v] : results->ints) {
            Napi::Int32Array a = Napi::Int32Array::New(env, v.size());
            std::copy(v.begin(), v.end(), a.Data());
            out.Set(key, a);
          }
          for (const auto& [key, v] : results->numbers) out.Set(key, v);
          return out;
        });
  });
}
NCOD_EXPORT("trainKernel", TrainKernel);

}  // namespace ncod::binding
