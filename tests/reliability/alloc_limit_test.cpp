// Every buffer strata allocates goes through the STRATA_MAX_ALLOC_BYTES check
// (detail::allocate) or an equivalent one, so a request over the limit is a
// strata::Error naming the operation, never a std::bad_alloc, an
// overcommitted page fault later, or a silent multi-gigabyte allocation. With
// the default limit (64 GiB) that is hard to test without the memory; this
// translation unit sets it to 1 MiB, so every kind of buffer — tensors,
// parameters, outputs, the convolution workspace, Bilinear's outer products,
// loaded tensors, intermediate results in a Sequential — can be pushed over it
// by ordinary shapes.
#define STRATA_MAX_ALLOC_BYTES (std::int64_t{1} << 20)

#include <cstdint>
#include <string>
#include <vector>

#include <strata/strata.hpp>

#include "io/temp_dir.hpp"
#include "linear_reference.hpp"
#include "reference_conv.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
using namespace strata::nn;
namespace F = strata::nn::functional;

constexpr index_t kLimit = index_t{1} << 20;
constexpr index_t kFloats = kLimit / 4;  // floats that fit

TEST(AllocLimit, TensorsUpToTheLimitAndNotBeyond) {
  EXPECT_EQ(Tensor<float>::empty({kFloats}).numel(), kFloats);  // exactly 1 MiB
  EXPECT_THROW_WITH(Tensor<float>::empty({kFloats + 1}), strata::Error,
                    "Tensor: refusing to allocate 1048580 bytes (limit STRATA_MAX_ALLOC_BYTES = 1048576)");
  EXPECT_THROW_WITH(Tensor<double>::zeros({kFloats / 2 + 1}), strata::Error, "refusing to allocate 1048584 bytes");
  strata::Generator gen(1);
  EXPECT_THROW_WITH(Tensor<float>::randn({1024, 257}, gen), strata::Error, "refusing to allocate");
  // A copy of a view is a new allocation, checked like any other.
  const Tensor<float> big = Tensor<float>::zeros({512, 512});
  EXPECT_EQ(big.transpose(0, 1).contiguous().numel(), kFloats);
  EXPECT_THROW_WITH(Tensor<float>(Shape{kFloats + 1}, std::vector<float>(kFloats + 1)), strata::Error,
                    "refusing to allocate");
}

TEST(AllocLimit, LayerParametersAndOutputs) {
  EXPECT_THROW_WITH(Linear<float>(1024, 257), strata::Error, "Tensor: refusing to allocate 1052672 bytes");
  EXPECT_THROW_WITH(Conv2d<float>(Conv2dOptions(64, 64, 9)), strata::Error, "refusing to allocate");
  EXPECT_THROW_WITH(Bilinear<double>(128, 128, 9), strata::Error, "refusing to allocate");
  // Inputs that fit, outputs that fit exactly or not.
  const Linear<float> fc(128, 512);
  EXPECT_EQ(fc(Tensor<float>::zeros({512, 128})).numel(), kFloats);
  EXPECT_THROW_WITH(fc(Tensor<float>::zeros({600, 128})), strata::Error, "refusing to allocate 1228800 bytes");
  const Conv2d<float> conv(Conv2dOptions(1, 64, 1));
  EXPECT_THROW_WITH(conv(Tensor<float>::zeros({1, 1, 64, 65})), strata::Error, "refusing to allocate");
  // A non-contiguous input whose contiguous copy fits: computed.
  const Linear<float> square(256, 256);
  EXPECT_EQ(square(Tensor<float>::zeros({256, 1000}).transpose(0, 1)).shape(), (Shape{1000, 256}));
}

TEST(AllocLimit, ConvolutionWorkspace) {
  // The workspace depends on the kernel's plan; whatever its size, a
  // convolution whose workspace passes the limit is refused and any other is
  // computed correctly. The first geometry needs more than 1 MiB of phase
  // planes (64 channels of a padded 64 x 64 image), the second far less.
  struct Case {
    Conv2dOptions options;
    Shape input;
  };
  const std::vector<Case> cases = {{Conv2dOptions(64, 8, 3).padding(1), {1, 64, 64, 64}},
                                   {Conv2dOptions(4, 8, 3).padding(1).padding_mode(kReflect), {2, 4, 16, 16}}};
  int refused = 0, computed = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.input);
    const Conv2d<float> conv(c.options);
    strata::kernels::ConvShape<2> s;
    s.batch = c.input[0];
    s.in_channels = c.input[1];
    s.out_channels = c.options.out_channels();
    s.input = {c.input[2], c.input[3]};
    s.kernel = c.options.kernel_size().array();
    s.stride = {1, 1};
    s.dilation = {1, 1};
    s.pad_before = s.pad_after = c.options.padding().values().array();
    s.output = {c.input[2], c.input[3]};
    s.padding_mode = c.options.padding_mode();
    const index_t workspace_bytes = strata::kernels::plan_conv(s).workspace() * 4;
    const Tensor<float> x = Tensor<float>::ones(c.input);
    if (workspace_bytes > kLimit) {
      ++refused;
      EXPECT_THROW_WITH(conv(x), strata::Error, "Conv2d: refusing to allocate " + std::to_string(workspace_bytes));
    } else {
      ++computed;
      const Tensor<float> y = conv(x);
      const strata_test::ReferenceConv ref = strata_test::reference_conv<2, float>(
          x, conv.weight(), conv.bias(), {1, 1}, s.pad_before, s.pad_after, {1, 1}, 1, s.padding_mode);
      EXPECT_TRUE(strata_test::matches_reference(y, ref));
    }
  }
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(computed, 1);
}

TEST(AllocLimit, BilinearOuterProducts) {
  // Bilinear(64, 64, 2) on 300 rows: a 32 KB weight and a 2.4 KB output, but
  // the outer-product buffer would be 256 rows x 4096 pairs = 4 MiB.
  const Bilinear<float> wide(64, 64, 2);
  EXPECT_THROW_WITH(wide(Tensor<float>::ones({300, 64}), Tensor<float>::ones({300, 64})), strata::Error,
                    "bilinear: refusing to allocate 4194304 bytes");
  // With 256 pairs the buffer is 300 x 256 floats: computed, and right.
  strata::Generator gen(5);
  const Bilinear<float> narrow(16, 16, 2);
  const Tensor<float> a = Tensor<float>::randn({300, 16}, gen), b = Tensor<float>::randn({300, 16}, gen);
  EXPECT_TRUE(
      strata_test::matches_reference(narrow(a, b), strata_test::naive_bilinear(a, b, narrow.weight(), narrow.bias())));
}

TEST(AllocLimit, SequentialIntermediates) {
  // Each output fits except the middle one; the error names the child.
  const Sequential<float> net(Linear<float>(4, 512), ReLU<float>(), Linear<float>(512, 2));
  EXPECT_EQ(net(Tensor<float>::zeros({512, 4})).shape(), (Shape{512, 2}));
  EXPECT_THROW_WITH(net(Tensor<float>::zeros({513, 4})), strata::Error,
                    "Sequential child (0): Tensor: refusing to allocate");
}

TEST(AllocLimit, LoadedTensors) {
  // A well-formed .npy file of 1.2 MB: its header is valid and the file holds
  // every byte, but the tensor is over the limit.
  strata_test::TempDir dir;
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (300000,), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  const std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + strata_test::le_bytes(header.size(), 2) + header +
                            std::string(300000 * 4, '\0');
  const std::string path = dir.write("big.npy", bytes);
  EXPECT_THROW_WITH(strata::io::load_npy<float>(path), strata::Error, "refusing to allocate 1200000 bytes");
  // And the same through safetensors.
  const std::string json = R"({"w":{"dtype":"F32","shape":[300000],"data_offsets":[0,1200000]}})";
  const std::string st = strata_test::le_bytes(json.size(), 8) + json + std::string(1200000, '\0');
  EXPECT_THROW_WITH(strata::io::load_safetensors<float>(dir.write("big.safetensors", st)), strata::Error,
                    "refusing to allocate 1200000 bytes");
}

}  // namespace
