// The method's own pieces (METHOD.md §2–3): the fixed simplex-ETF projector applied by its structure
// (O(m + n) per sample, no dense matrix), and the loss terms with their gradients.
// Implemented in native/cpu/training.cpp (the Gram of nn_entropy uses BLAS).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ncod {

// y = A v for the frozen ETF layer A = s·(I_{m×n} − 1_{m×n}/c), s = √(c/(c−1)):
// y_i = s·(v_i·[i < n] − Σv/c). v has n entries, y has m.
void etf_apply(const float* v, size_t n, size_t m, size_t c, float* y);
// g_in = Aᵀ g_out: (g_in)_j = s·(g_j·[j < m] − Σg/c). g_out has m entries, g_in has n.
void etf_apply_transpose(const float* g_out, size_t m, size_t n, size_t c, float* g_in);

// The projector z = normalize(A₂ relu(A₁ e)) for B rows: e (B×d), hidden (B×h, saved for backward),
// z (B×d). Both layers use c = d.
void etf_projector_forward(const float* e, size_t B, size_t d, size_t h, float* hidden, float* z);
// Given dL/dz, the gradient dL/de through normalisation, A₂, the ReLU and A₁ (inputs from the forward).
void etf_projector_backward(const float* hidden, const float* z, const float* dz, size_t B, size_t d, size_t h,
                            float* de);

// Mean over rows of cross-entropy against (1−ε)·onehot(y) + ε/K, and dL/dlogits (B×K). When correct is given,
// *correct = the number of rows whose first maximal logit is the label.
double cross_entropy_ls(const float* logits, const int32_t* y, size_t B, size_t K, double eps, float* dlogits,
                        size_t* correct = nullptr);

// L_ent = −(1/B) Σ_i log(‖ê_i − ê_{j(i)} + 1e-8‖ + 1e-8), ê = e/max(‖e‖, 1e-8), j(i) the nearest other row
// by cosine similarity (held fixed). Writes dL_ent/de (B×d, float32) scaled by `scale` and returns L_ent.
// Needs B ≥ 2. The B×B Gram of ê comes from one matrix product.
double nn_entropy(const float* e, size_t B, size_t d, double scale, float* de);

}  // namespace ncod
