# Install rules: headers, the exported target, a relocatable package config
# with an architecture-independent version file, and a pkg-config file.
set(STRATA_CMAKE_DIR ${CMAKE_INSTALL_DATADIR}/cmake/strata)

install(TARGETS strata strata_native EXPORT strataTargets)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/strata DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT strataTargets NAMESPACE strata:: DESTINATION ${STRATA_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/strataConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/strataConfig.cmake INSTALL_DESTINATION ${STRATA_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/strataConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/strataConfig.cmake ${PROJECT_BINARY_DIR}/strataConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/StrataDependencies.cmake DESTINATION ${STRATA_CMAKE_DIR})

set(STRATA_PC_OPENMP "")
if(STRATA_WITH_OPENMP)
  set(STRATA_PC_OPENMP "-fopenmp")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/strata.pc.in ${PROJECT_BINARY_DIR}/strata.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/strata.pc DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig)
