#include "nc_uniformity.h"

#include <cmath>
#include <limits>
#include <vector>

namespace ncod {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double norm(const double* a, size_t n) {
  double s = 0;
  for (size_t j = 0; j < n; ++j) s += a[j] * a[j];
  return std::sqrt(s);
}

}  // namespace

double gnc2_hyperspherical_uniformity(const double* centred, size_t C, size_t d) {
  std::vector<double> unit(C * d);
  for (size_t c = 0; c < C; ++c) {
    const double n = norm(centred + c * d, d);
    if (!(n > 0)) return kNaN;
    for (size_t j = 0; j < d; ++j) unit[c * d + j] = centred[c * d + j] / n;
  }
  // The difference is formed before its norm (not √(2 − 2cos)) so nearly equal means keep their digits.
  std::vector<double> kernel;
  kernel.reserve(C * (C - 1) / 2);
  for (size_t a = 0; a < C; ++a) {
    for (size_t b = a + 1; b < C; ++b) {
      double s = 0;
      for (size_t j = 0; j < d; ++j) {
        const double diff = unit[a * d + j] - unit[b * d + j];
        s += diff * diff;
      }
      if (!(s > 0)) return kNaN;
      kernel.push_back(-0.5 * std::log(s));
    }
  }
  double mean = 0;
  for (double k : kernel) mean += k;
  mean /= double(kernel.size());
  double var = 0;
  for (double k : kernel) var += (k - mean) * (k - mean);
  return std::sqrt(var / double(kernel.size()));
}

double unc3_uniform_duality(const double* centred, const double* weights, size_t C, size_t d) {
  std::vector<double> cosines(C);
  for (size_t c = 0; c < C; ++c) {
    double dot = 0;
    for (size_t j = 0; j < d; ++j) dot += weights[c * d + j] * centred[c * d + j];
    const double denominator = norm(weights + c * d, d) * norm(centred + c * d, d);
    if (!(denominator > 0)) return kNaN;
    cosines[c] = dot / denominator;
  }
  double mean = 0;
  for (double x : cosines) mean += x;
  mean /= double(C);
  double var = 0;
  for (double x : cosines) var += (x - mean) * (x - mean);
  return mean == 0 ? kNaN : std::sqrt(var / double(C - 1)) / std::fabs(mean);
}

}  // namespace ncod
