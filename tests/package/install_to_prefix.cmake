# Installs the build tree into a fresh temporary prefix.
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${result}")
endif()
foreach(file include/strata/strata.hpp share/cmake/strata/strataConfig.cmake
             share/cmake/strata/strataConfigVersion.cmake share/pkgconfig/strata.pc)
  if(NOT EXISTS ${PREFIX}/${file})
    message(FATAL_ERROR "the install is missing ${file}")
  endif()
endforeach()
