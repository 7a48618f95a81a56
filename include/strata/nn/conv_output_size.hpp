#pragma once
/// \file
/// Output sizes of convolutions, usable without building a layer:
/// conv_output_size for one spatial dimension and same_padding for the split
/// torch uses for padding='same'. Both live with the rest of the convolution
/// geometry in nn/conv_geometry.hpp; this header stays for code that includes it.

#include "strata/nn/conv_geometry.hpp"
