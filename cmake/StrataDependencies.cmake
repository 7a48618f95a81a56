# strata's dependencies, found the same way for a build and for an installed
# package (strataConfig.cmake includes this file too). Finds only; never installs.
include(CMakeFindDependencyMacro)

# Inside strataConfig.cmake a missing dependency must make find_package(strata)
# fail politely (find_dependency); in strata's own build it is a hard error.
macro(strata_find_dependency)
  if(CMAKE_FIND_PACKAGE_NAME)
    find_dependency(${ARGV})
  else()
    find_package(${ARGV} REQUIRED)
  endif()
endmacro()

# Debian's Eigen 3.4 config rejects version ranges, so find it plainly and check.
strata_find_dependency(Eigen3 NO_MODULE)
if(NOT TARGET Eigen3::Eigen)
  message(FATAL_ERROR "strata needs Eigen 3.3 or newer (Debian: libeigen3-dev)")
endif()
if(DEFINED Eigen3_VERSION AND Eigen3_VERSION VERSION_LESS 3.3)
  message(FATAL_ERROR "strata needs Eigen 3.3 or newer, found ${Eigen3_VERSION}")
endif()

# The JSON header of safetensors files is parsed with nlohmann_json (Debian: nlohmann-json3-dev).
strata_find_dependency(nlohmann_json 3.2)

if(STRATA_WITH_OPENMP)
  strata_find_dependency(OpenMP)
  if(NOT TARGET OpenMP::OpenMP_CXX)
    message(FATAL_ERROR "STRATA_WITH_OPENMP is on but no OpenMP was found; set it OFF to build without threads")
  endif()
endif()
