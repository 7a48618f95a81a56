# Developer set-up for a fresh Debian 12 machine: installs what strata's own
# build needs and is missing (Eigen, nlohmann_json; libtorch-dev, OpenBLAS,
# python3-torch and python3-torchvision too when STRATA_WITH_LIBTORCH=ON is passed
# with -D, before -P; clang and
# libclang-rt-dev with STRATA_WITH_FUZZ=ON). Run as `cmake -P cmake/bootstrap.cmake`.
# Only the README's commands run this; configuring strata never installs anything.
set(packages)
if(NOT EXISTS /usr/include/eigen3/Eigen/Core)
  list(APPEND packages libeigen3-dev)
endif()
if(NOT EXISTS /usr/include/nlohmann/json.hpp)
  list(APPEND packages nlohmann-json3-dev)
endif()
if(STRATA_WITH_LIBTORCH AND NOT EXISTS /usr/include/torch/csrc/api/include/torch/torch.h)
  list(APPEND packages libtorch-dev)
endif()
# libtorch recommends OpenBLAS; without it (as with --no-install-recommends) its
# GEMMs fall back to the reference BLAS and a side-by-side benchmark says nothing.
if(STRATA_WITH_LIBTORCH AND NOT EXISTS /usr/lib/x86_64-linux-gnu/libopenblas.so.0)
  list(APPEND packages libopenblas0)
endif()
# The whole-model libtorch rows run TorchScript modules that a Python script exports at build
# time (benchmarks/export_torchscript_models.py) with Debian's torch and torchvision.
if(STRATA_WITH_LIBTORCH AND NOT EXISTS /usr/lib/python3/dist-packages/torch/__init__.py)
  list(APPEND packages python3-torch)
endif()
if(STRATA_WITH_LIBTORCH AND NOT EXISTS /usr/lib/python3/dist-packages/torchvision/__init__.py)
  list(APPEND packages python3-torchvision)
endif()
# The fuzz step (.ci/fuzz, the `fuzz` preset) needs clang and its libFuzzer
# and sanitizer runtimes, which Debian ships apart from the compiler.
if(STRATA_WITH_FUZZ AND NOT EXISTS /usr/bin/clang++)
  list(APPEND packages clang)
endif()
file(GLOB strata_fuzzer_runtime /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a)
if(STRATA_WITH_FUZZ AND NOT strata_fuzzer_runtime)
  list(APPEND packages libclang-rt-dev)
endif()

if(NOT packages)
  message(STATUS "strata bootstrap: every dependency is present")
  return()
endif()

find_program(APT_GET apt-get)
if(NOT APT_GET)
  message(FATAL_ERROR "strata bootstrap: missing ${packages} and no apt-get to install them; install them by hand")
endif()
message(STATUS "strata bootstrap: installing ${packages}")
set(ENV{DEBIAN_FRONTEND} noninteractive)
execute_process(COMMAND ${APT_GET} update -qq RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "strata bootstrap: apt-get update failed (are you root?)")
endif()
execute_process(COMMAND ${APT_GET} install -y -qq --no-install-recommends ${packages} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "strata bootstrap: apt-get install ${packages} failed")
endif()
