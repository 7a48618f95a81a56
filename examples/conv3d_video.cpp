// conv3d_video: Conv3d on a video clip, (N, C, T, H, W) = clips, colour
// channels, frames, height, width, as video models (C3D, R(2+1)D, X3D) use it.
//
//   PyTorch:
//   clip = torch.randn(2, 3, 8, 32, 32)                    # 2 clips of 8 RGB frames, 32 x 32
//   spacetime = nn.Conv3d(3, 16, 3, padding=1)             # 3 x 3 x 3: frames and pixels at once
//   spatial = nn.Conv3d(16, 32, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))  # each frame alone
//   temporal = nn.Conv3d(32, 32, (3, 1, 1), padding=(1, 0, 0))                   # each pixel over time
//
// Each of the three sizes follows the Conv1d formula
//   floor((in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1).
// A kernel of depth 1 never mixes frames: it is a Conv2d applied to every
// frame, which this program checks.
#include <strata/strata.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>

namespace {

using strata::Tensor;
using strata::nn::Conv3d;
using strata::nn::Conv3dOptions;

template <typename T>
std::string str(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

int main() {
  strata::manual_seed(0);
  strata::Generator gen(3);
  const Tensor<float> clip = Tensor<float>::randn({2, 3, 8, 32, 32}, gen);

  Conv3d spacetime(Conv3dOptions(3, 16, 3).padding(1));
  Conv3d spatial(Conv3dOptions(16, 32, {1, 3, 3}).stride({1, 2, 2}).padding({0, 1, 1}));
  Conv3d temporal(Conv3dOptions(32, 32, {3, 1, 1}).padding({1, 0, 0}));

  const Tensor<float> a = spacetime(clip), b = spatial(a), c = temporal(b);
  std::printf("clip                 %s\n", str(clip.shape()).c_str());
  const auto row = [](const Conv3d<float>& conv, const Tensor<float>& y) {
    std::printf("%-90s -> %s, %lld parameters\n", str(conv).c_str(), str(y.shape()).c_str(),
                static_cast<long long>(conv.num_parameters()));
  };
  row(spacetime, a);
  row(spatial, b);
  row(temporal, c);
  std::printf("(16*3*27 + 16 = 1312;  32*16*9 + 32 = 4640;  32*32*3 + 32 = 3104)\n\n");

  // One clip without the batch dimension: (C, T, H, W), as torch accepts it.
  const Tensor<float> clip1 = clip.narrow(0, 1, 1).squeeze(0);
  const Tensor<float> one = spacetime(clip1);
  const bool unbatched = one.shape() == strata::Shape{16, 8, 32, 32} &&
                         strata::max_abs_diff(one, a.narrow(0, 1, 1).squeeze(0)) == 0.0f;
  std::printf("unbatched clip %s -> %s, equal to clip 1 of the batch: %s\n\n", str(clip1.shape()).c_str(),
              str(one.shape()).c_str(), unbatched ? "yes" : "no, FAILED");

  // The (1, 3, 3) layer is a Conv2d on each frame: weight (32, 16, 1, 3, 3) -> (32, 16, 3, 3).
  const Tensor<float> weight2d = spatial.weight().squeeze(2);
  float worst = 0;
  for (strata::index_t t = 0; t < 8; ++t) {
    const Tensor<float> frame = a.narrow(2, t, 1).squeeze(2);  // (2, 16, 32, 32)
    const Tensor<float> y = strata::nn::functional::conv2d(frame, weight2d, spatial.bias(), /*stride=*/2,
                                                           /*padding=*/1);
    worst = std::max(worst, strata::max_abs_diff(y, b.narrow(2, t, 1).squeeze(2)));
  }
  // 144 products per output in float, summed in another order: a few 1e-6 at most.
  const bool per_frame = worst < 1e-4f;
  std::printf("kernel (1, 3, 3) == Conv2d on every frame: max |difference| %.1e -> %s\n", static_cast<double>(worst),
              per_frame ? "equal" : "different, FAILED");
  return unbatched && per_frame ? 0 : 1;
}
