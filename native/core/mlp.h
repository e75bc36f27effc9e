// The NC-controlled MLP (METHOD.md §2–3): encoder (Linear [+ LayerNorm] + ReLU layers) → optional frozen simplex-ETF projector
// (d → h → d, normalised) → linear classifier; loss CE_ls(logits) + α·L_ent(encoder output).
// Parameters and AdamW moments are caller-owned float32 host arrays: the caller (TypeScript) keeps, initialises and
// checkpoints them. Each call copies what it needs into the kernels' memory (TrainKernels::allocate, device memory on
// a GPU), works there, and copies results back at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "run_context.h"
#include "train_kernels.h"

namespace ncod {

struct MlpConfig {
  std::vector<size_t> widths;   // [input, h1, ..., hK]: K ≥ 0 encoder layers (K = 0: a linear probe)
  size_t classes = 0;
  size_t projector_hidden = 0;  // 0: no projector (the baseline: classifier on the encoder output)
  bool layer_norm = false;      // each encoder layer Linear → LayerNorm (learnable γ, β) → ReLU
  size_t encoder_dim() const { return widths.back(); }
  size_t layers() const { return widths.size() - 1; }
  // W (out×in) and b (out) per encoder layer, then γ (out) and β (out) with layer_norm; then the classifier's W (C×d)
  // and b (C).
  std::vector<size_t> parameter_sizes() const;
  // Index in parameter_sizes() of encoder layer l's W (+1: b, +2: γ, +3: β), and of the classifier's W (+1: b).
  size_t layer_param(size_t l) const { return l * (layer_norm ? 4 : 2); }
  size_t classifier_param() const { return layer_param(layers()); }
};

struct MlpTensors {
  std::vector<float*> params, m, v;  // one per parameter, sizes from parameter_sizes()
};

struct EpochOptions {
  const float* x = nullptr;      // rows×input
  const int32_t* y = nullptr;
  size_t rows = 0;
  const int32_t* order = nullptr;  // visiting order (a permutation of 0..rows−1)
  size_t batch = 256;
  double alpha = 0.05, label_smoothing = 0.1;
  AdamWParams adamw;
  int64_t step = 0;  // optimiser steps taken before this epoch
};

struct EpochResult {
  double loss = 0, ce = 0, entropy = 0, accuracy = 0;
  int64_t step = 0;
};

struct BatchLoss {
  double ce = 0, entropy = 0;  // entropy: L_ent (unscaled); the total is ce + α·entropy
  size_t correct = 0;
};

// Loss of one batch and the gradients of every parameter (written to grads, sizes from parameter_sizes()).
BatchLoss batch_gradients(TrainKernels& k, const MlpConfig& cfg, const std::vector<const float*>& params,
                          const float* x, const int32_t* y, size_t n, double alpha, double label_smoothing,
                          const std::vector<float*>& grads);

// One epoch. params, m and v are written back only when the whole epoch succeeded: an aborted or failed epoch leaves
// them exactly as they were, so the caller's state (parameters, moments, step) stays consistent and the epoch can be
// run again with the same result.
EpochResult train_epoch(TrainKernels& k, const MlpConfig& cfg, const MlpTensors& t, const EpochOptions& o,
                        const RunContext& context);

// Layer outputs, by index: 0..K−1 encoder layers (K−1 = encoder), K projector hidden, K+1 projector output,
// K+2 logits. Forward in row blocks; writes rows×width(layer) floats to out.
size_t layer_width(const MlpConfig& cfg, size_t layer);
void forward_layer(TrainKernels& k, const MlpConfig& cfg, const std::vector<const float*>& params, const float* x,
                   size_t rows, size_t layer, float* out, const RunContext& context);

void check_mlp_config(const MlpConfig& cfg);

}  // namespace ncod
