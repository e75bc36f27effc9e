// GNC2 and UNC3 of Wu & Papyan, "Linguistic Collapse: Neural Collapse in (Large) Language Models" (NeurIPS 2024),
// the two metrics their library rhubarbwu/neural-collapse has beside the classic NC ones. Both are functions of the
// centred class means alone (plus the classifier for UNC3): O(C²·d) in float64, no pass over the samples, so the
// in-memory, streamed and merged paths get them from the same sufficient statistics (nc_metrics.cpp).
//
// With μ̃_c = μ_c − μ_G (μ_G as for the other metrics) and û_c = μ̃_c / ‖μ̃_c‖:
// - GNC2 (hyperspherical uniformity): the standard deviation, over the C(C−1)/2 unordered pairs i < j, of the
//   logarithmic inverse-distance kernel log(1/‖û_i − û_j‖) (Liu et al. 2023's K_log). Their library's
//   `kernel_grid(M, m_G, log_kernel)` gives exactly these pairwise values, and the paper's analysis
//   (linguistic-collapse/analyze.py, `--geodesic log`) records the mean and the standard deviation of the upper
//   triangle; neither code fixes one of the two as "GNC2". We report the deviation, because it is what reaches 0
//   under collapse: a simplex ETF (C ≤ d + 1) has all pairwise distances equal, whereas the kernel's mean depends on
//   C and d even at the optimum. Population deviation: the pairs are the whole population, not a sample. NaN (null
//   in JS) when two normalised means coincide (a distance of 0 puts +∞ in the kernel, e.g. d = 1 with C > 2) or a
//   centred mean is 0.
// - UNC3 (uniform duality): the coefficient of variation, std / |mean| with the sample deviation (n − 1, like
//   nc2_equinorm_*), over classes of cos(w_c, μ̃_c) (the library's `similarities(M, W, m_G, cos=True)`). Uniform
//   duality asks for equal alignment of every class with its classifier rather than NC3's exact self-duality, so
//   it reaches 0 when all cosines are equal; |mean| keeps it non-negative for a classifier anti-aligned with the
//   means. NaN when a centred mean or a classifier row is 0, or when the cosines average exactly 0.
#pragma once

#include <cstddef>

namespace ncod {

// centred: C×d row-major μ̃.
double gnc2_hyperspherical_uniformity(const double* centred, size_t classes, size_t dim);
// centred: C×d μ̃; weights: C×d classifier rows.
double unc3_uniform_duality(const double* centred, const double* weights, size_t classes, size_t dim);

}  // namespace ncod
