// tiny_decoder: upsampling with ConvTranspose2d, the way an autoencoder's or a
// GAN's decoder grows a small code back into an image.
//
//   PyTorch:
//   decoder = nn.Sequential(
//       nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1), nn.ReLU(),   # 4x4 -> 8x8
//       nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1), nn.Sigmoid()) # 8x8 -> 16x16
//   image = decoder(torch.randn(1, 16, 4, 4))
//
// A transposed convolution runs a convolution backwards: every input pixel
// "stamps" a copy of the kernel, scaled by its value, into the output, the
// stamps `stride` pixels apart; overlapping stamps add up, then `padding`
// crops the border. So each size grows to
//   (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1,
// and kernel 4, stride 2, padding 1 doubles it exactly.
#include <strata/strata.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>

namespace {

using strata::Tensor;
using strata::nn::ConvTranspose2d;
using strata::nn::ConvTranspose2dOptions;

template <typename T>
std::string str(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

int main() {
  strata::manual_seed(0);
  strata::Generator gen(7);

  // 1. The decoder: two doubling steps, like the PyTorch snippet above.
  strata::nn::Sequential<float> decoder(ConvTranspose2d(ConvTranspose2dOptions(16, 8, 4).stride(2).padding(1)),
                                        strata::nn::ReLU<float>(),
                                        ConvTranspose2d(ConvTranspose2dOptions(8, 1, 4).stride(2).padding(1)),
                                        strata::nn::Sigmoid<float>());
  std::printf("%s\n", str(decoder).c_str());
  std::printf("parameters: %lld  (16*8*16 + 8 + 8*1*16 + 1 = 2185; the weight is (in, out, kH, kW))\n\n",
              static_cast<long long>(decoder.num_parameters()));

  const Tensor<float> code = Tensor<float>::randn({1, 16, 4, 4}, gen);
  const Tensor<float> image = decoder(code);
  std::printf("decoder: %s -> %s\n", str(code.shape()).c_str(), str(image.shape()).c_str());
  float lo = 1, hi = 0;
  for (strata::index_t i = 0; i < image.numel(); ++i) {
    lo = std::min(lo, image.data()[i]);
    hi = std::max(hi, image.data()[i]);
  }
  std::printf("pixel values in [%.3f, %.3f] (after the Sigmoid)\n\n", static_cast<double>(lo),
              static_cast<double>(hi));

  // 2. What one input pixel does: an impulse at (1, 2) of channel 3 stamps
  //    weight[3] (8 x 4 x 4), plus the bias, at rows 1*2 - 1 .. and columns 2*2 - 1 ..
  ConvTranspose2d<float> up(ConvTranspose2dOptions(16, 8, 4).stride(2).padding(1));
  Tensor<float> impulse = Tensor<float>::zeros({1, 16, 4, 4});
  impulse(0, 3, 1, 2) = 1.0f;
  const Tensor<float> stamped = up(impulse);
  bool stamps = true;
  for (strata::index_t c = 0; c < 8; ++c)
    for (strata::index_t r = 0; r < 8; ++r)
      for (strata::index_t q = 0; q < 8; ++q) {
        const strata::index_t kr = r - (1 * 2 - 1), kq = q - (2 * 2 - 1);  // position inside the stamp
        const bool inside = kr >= 0 && kr < 4 && kq >= 0 && kq < 4;
        const float expected = up.bias()(c) + (inside ? up.weight()(3, c, kr, kq) : 0.0f);
        stamps = stamps && stamped(0, c, r, q) == expected;  // one product and one sum: exact
      }
  std::printf("an impulse at (1, 2) stamps weight[3] at rows 1.., columns 3..: %s\n\n",
              stamps ? "yes" : "no, FAILED");

  // 3. Undoing a strided Conv2d: 7x7 -> 4x4 with stride 2, but 8x8 -> 4x4 as well,
  //    so the way back is ambiguous. forward(x, output_size) picks the size
  //    (torch's output_size argument: one extra row and column of output_padding).
  strata::nn::Conv2d<float> down(strata::nn::Conv2dOptions(8, 8, 3).stride(2).padding(1));
  ConvTranspose2d<float> back(ConvTranspose2dOptions(8, 8, 3).stride(2).padding(1));
  const Tensor<float> x = Tensor<float>::randn({1, 8, 8, 8}, gen);
  const Tensor<float> h = down(x);
  std::printf("Conv2d(stride 2): %s -> %s\n", str(x.shape()).c_str(), str(h.shape()).c_str());
  std::printf("ConvTranspose2d back: %s, with output_size {8, 8}: %s\n", str(back(h).shape()).c_str(),
              str(back(h, {8, 8}).shape()).c_str());
  const bool restored = back(h, {8, 8}).shape() == x.shape() && back(h).shape() == strata::Shape{1, 8, 7, 7};
  std::printf("output_size restores the encoder's input shape: %s\n", restored ? "yes" : "no, FAILED");
  return stamps && restored ? 0 : 1;
}
