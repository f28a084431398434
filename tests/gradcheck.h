// Finite-difference gradient checking for tests (ggml test-backend-ops / micrograd style).
//
// For a function f of some input tensors, the scalar probe L = sum_i w_i * f(x)_i with fixed
// random weights w (accumulated in double) is differentiated two ways: autograd, and central
// differences (L(x + h e_j) - L(x - h e_j)) / 2h for every element j of every input that
// requires grad. The forward runs in fp32, so the difference carries rounding error of about
// sqrt(numel(out)) * 6e-8 * |w| * |f| / h, and truncation error of about h^2 * |f'''| / 6:
// with h = 1e-2 and O(1) values both are ~1e-4, hence the default tolerance
// |autograd - numeric| <= atol + rtol * |numeric| with atol = 2e-3, rtol = 1e-2.
// Functions with kinks (clamp, min, max) must keep inputs away from the kink by more than h.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "autograd/autograd.h"
#include "ops/ops.h"
#include "util/rng.h"

namespace r1::testing {

struct GradcheckOptions {
  double h = 1e-2;
  double atol = 2e-3;
  double rtol = 1e-2;
  uint64_t seed = 1234;
};

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

// The probe loss in double precision, no autograd.
inline double probe_loss(const TensorFn& f, const std::vector<Tensor>& inputs, const std::vector<float>& w) {
  NoGradGuard guard;
  std::vector<float> out = f(inputs).to_vector();
  double L = 0;
  for (size_t i = 0; i < out.size(); i++) L += double(w[i]) * double(out[i]);
  return L;
}

// Checks every gradient of f at `inputs` (those with requires_grad) against finite differences.
inline void expect_gradients_match(const TensorFn& f, std::vector<Tensor> inputs, GradcheckOptions opt = {}) {
  // Probe weights fixed by the seed, one per output element.
  Shape out_shape;
  {
    NoGradGuard guard;
    out_shape = f(inputs).shape();
  }
  Rng rng(opt.seed);
  std::vector<float> w(static_cast<size_t>(shape_numel(out_shape)));
  for (float& x : w) x = float(rng.uniform() * 2 - 1);

  // Autograd.
  for (Tensor& t : inputs) if (t.requires_grad()) t.zero_grad();
  Tensor out = f(inputs);
  ASSERT_EQ(out.shape(), out_shape);
  Tensor loss = sum(mul(out, Tensor::from_vector(out_shape, w)));
  backward(loss);

  // Central differences, element by element.
  for (size_t k = 0; k < inputs.size(); k++) {
    Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    ASSERT_TRUE(x.grad().defined()) << "input " << k << " got no gradient";
    std::vector<float> analytic = x.grad().to_vector();
    float* p = x.data();
    int failures = 0;
    for (int64_t j = 0; j < x.numel(); j++) {
      float orig = p[j];
      p[j] = float(orig + opt.h);
      double Lp = probe_loss(f, inputs, w);
      p[j] = float(orig - opt.h);
      double Lm = probe_loss(f, inputs, w);
      p[j] = orig;
      double numeric = (Lp - Lm) / (2 * opt.h);
      double err = std::fabs(double(analytic[size_t(j)]) - numeric);
      if (err > opt.atol + opt.rtol * std::fabs(numeric) && failures++ < 5)
        ADD_FAILURE() << "input " << k << " " << shape_str(x.shape()) << " element " << j << ": autograd "
                      << analytic[size_t(j)] << " vs numeric " << numeric;
    }
    EXPECT_EQ(failures, 0) << "input " << k << ": " << failures << " mismatching elements";
  }
}

// A random input that requires grad.
inline Tensor rand_input(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Rng rng(seed);
  Tensor t = Tensor::uniform(shape, rng, lo, hi);
  t.set_requires_grad(true);
  return t;
}

}  // namespace r1::testing
