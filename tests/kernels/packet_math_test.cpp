// Tests for strata/kernels/packet_math.hpp: exp, tanh and erf on Eigen packets
// against long double over dense grids (the ulp bounds the header states),
// their IEEE edge values, and the one-lane (scalar) instantiation.
#include <strata/kernels/packet_math.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "activation_reference.hpp"
#include "test_util.hpp"

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

namespace {

namespace math = strata::kernels::math;
namespace ei = Eigen::internal;
namespace ref = strata_test::activation;

template <typename T>
class PacketMathTest : public ::testing::Test {};
TYPED_TEST_SUITE(PacketMathTest, strata_test::ScalarTypes);

/// f applied to `values` through whole packets.
template <typename T, typename F>
std::vector<T> packet_math_map(const std::vector<T>& values, F f) {
  constexpr strata::index_t W = math::packet_width<T>();
  std::vector<T> in(values), out(values.size() + W);
  in.resize(values.size() + W, T(0));
  for (std::size_t i = 0; i < values.size(); i += W)
    ei::pstoreu(out.data() + i, f(ei::ploadu<math::packet_t<T>>(in.data() + i)));
  out.resize(values.size());
  return out;
}

/// The worst distance, in ulps of the exact value, of f from exact over an even grid of [lo, hi].
template <typename T, typename F, typename E>
long double packet_math_worst(F f, E exact, long double lo, long double hi, int n = 100003) {
  std::vector<T> x(n);
  for (int i = 0; i < n; ++i) x[i] = static_cast<T>(lo + (hi - lo) * i / (n - 1));
  const std::vector<T> y = packet_math_map(x, f);
  long double worst = 0;
  for (int i = 0; i < n; ++i) {
    const long double e = exact(static_cast<long double>(x[i]));
    // A value past T's range rounds to infinity: exact then, whatever the long double says.
    const long double want = std::isinf(static_cast<T>(e)) ? static_cast<long double>(static_cast<T>(e)) : e;
    worst = std::max(worst, ref::distance(y[i], want, ref::ulp<T>(e)));
  }
  return worst;
}

const auto packet_math_exp = [](const auto& p) { return math::exp(p); };
const auto packet_math_tanh = [](const auto& p) { return math::tanh(p); };
const auto packet_math_erf = [](const auto& p) { return math::erf(p); };

TYPED_TEST(PacketMathTest, ExpWithinOneUlp) {
  using T = TypeParam;
  const bool f32 = sizeof(T) == 4;
  auto e = [](long double x) { return std::exp(x); };
  // The whole range (overflow and subnormal results included), and [-1, 1] densely.
  EXPECT_LE((packet_math_worst<T>(packet_math_exp, e, f32 ? -104 : -746, f32 ? 89 : 710)), 1.0);
  EXPECT_LE((packet_math_worst<T>(packet_math_exp, e, -1, 1)), 1.0);
  EXPECT_LE((packet_math_worst<T>(packet_math_exp, e, f32 ? -103.5 : -745, f32 ? -80 : -700)), 1.0);
}

TYPED_TEST(PacketMathTest, TanhWithinTheStatedUlps) {
  using T = TypeParam;
  auto e = [](long double x) { return std::tanh(x); };
  const double bound = sizeof(T) == 4 ? 1.1 : 1.4;  // measured 1.02 and 1.33
  EXPECT_LE((packet_math_worst<T>(packet_math_tanh, e, -12, 12)), bound);
  EXPECT_LE((packet_math_worst<T>(packet_math_tanh, e, 0.5, 1.1)), bound);  // both branch boundaries
  EXPECT_LE((packet_math_worst<T>(packet_math_tanh, e, -1e-3, 1e-3)), bound);
}

TYPED_TEST(PacketMathTest, ErfWithinTheStatedUlps) {
  using T = TypeParam;
  auto e = [](long double x) { return std::erf(x); };
  EXPECT_LE((packet_math_worst<T>(packet_math_erf, e, -7, 7)),
            1.5);  // measured 1.23 (float), 1.43 (double) near |x| = 1
  EXPECT_LE((packet_math_worst<T>(packet_math_erf, e, -1.2, 1.2)), 1.5);
  EXPECT_LE((packet_math_worst<T>(packet_math_erf, e, -1e-3, 1e-3)), 1.0);
}

TYPED_TEST(PacketMathTest, EdgeValues) {
  using T = TypeParam;
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const T tiny = std::numeric_limits<T>::denorm_min();
  const std::vector<T> x{nan, inf, -inf, T(0), T(-0.0), tiny, -tiny, T(1e4), T(-1e4)};
  const auto e = packet_math_map(x, packet_math_exp);
  const auto t = packet_math_map(x, packet_math_tanh);
  const auto r = packet_math_map(x, packet_math_erf);
  const std::vector<T> want_exp{nan, inf, 0, 1, 1, 1, 1, inf, 0};
  const std::vector<T> want_tanh{nan, 1, -1, 0, T(-0.0), tiny, -tiny, 1, -1};
  const T two_over_sqrt_pi_tiny = static_cast<T>(1.1283791670955126L * static_cast<long double>(tiny));
  const std::vector<T> want_erf{nan, 1, -1, 0, T(-0.0), two_over_sqrt_pi_tiny, -two_over_sqrt_pi_tiny, 1, -1};
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_TRUE(ref::identical(e[i], want_exp[i])) << "exp(" << x[i] << ") = " << e[i];
    EXPECT_TRUE(ref::identical(t[i], want_tanh[i])) << "tanh(" << x[i] << ") = " << t[i];
    EXPECT_TRUE(ref::identical(r[i], want_erf[i])) << "erf(" << x[i] << ") = " << r[i];
  }
}

TYPED_TEST(PacketMathTest, ScalarInstantiationAgreesWithPackets) {
  using T = TypeParam;
  // One lane: the same formula through Eigen's scalar primitives (fused or not, so within 1 ulp).
  for (T x : {T(-30.5), T(-2.25), T(-0.7), T(0.01), T(0.9), T(3.5), T(80)}) {
    const std::vector<T> v{x};
    EXPECT_LE(ref::distance(math::exp(x), packet_math_map(v, packet_math_exp)[0], ref::ulp<T>(std::exp(x))), 1.0);
    EXPECT_LE(ref::distance(math::tanh(x), packet_math_map(v, packet_math_tanh)[0], ref::ulp<T>(std::tanh(x))), 1.0);
    EXPECT_LE(ref::distance(math::erf(x), packet_math_map(v, packet_math_erf)[0], ref::ulp<T>(std::erf(x))), 1.0);
  }
  EXPECT_TRUE(std::isnan(math::exp(std::numeric_limits<T>::quiet_NaN())));
  EXPECT_TRUE(std::signbit(math::tanh(T(-0.0))));
}

}  // namespace
