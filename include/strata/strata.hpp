#pragma once
/// \file
/// The one include for all of strata.

#include "strata/core/eigen.hpp"
#include "strata/core/error.hpp"
#include "strata/core/generator.hpp"
#include "strata/core/print.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/storage.hpp"
#include "strata/core/tensor.hpp"
#include "strata/core/threads.hpp"
#include "strata/nn/conv.hpp"
#include "strata/nn/conv_output_size.hpp"
#include "strata/nn/conversions.hpp"
#include "strata/nn/expanding_array.hpp"
#include "strata/nn/functional/conv.hpp"
#include "strata/nn/functional/linear.hpp"
#include "strata/nn/identity.hpp"
#include "strata/nn/init.hpp"
#include "strata/nn/linear.hpp"
#include "strata/nn/module.hpp"
#include "strata/nn/padding.hpp"
