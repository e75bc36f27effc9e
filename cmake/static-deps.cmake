# NCOD_STATIC_DEPS=ON (npm run prebuild): link OpenBLAS, libgomp and the C++ runtime into the addon, so the
# prebuilt ncod.node needs nothing but glibc at run time and `npm install` needs no compiler, CMake or OpenBLAS.
#
# - OpenBLAS: Debian's pthread libopenblas.a, a DYNAMIC_ARCH build (it picks its kernels for the CPU at run
#   time, so one prebuild is fast everywhere). Its one Fortran-runtime need is native/static/gfortran_concat.c.
# - libgomp: a PIC libgomp.a from scripts/build-libgomp.sh (Debian's libgomp.a cannot go into a shared object).
# - libstdc++, libgcc: -static-libstdc++ -static-libgcc.
# Every archive's symbols stay local (--exclude-libs,ALL and a version script exporting only the Node-API entry
# points), so they cannot clash with the libstdc++ / libgomp that Node.js or other addons load.

find_package(Threads REQUIRED)
set(NCOD_LIBGOMP_PIC "${CMAKE_BINARY_DIR}/static-deps/libgomp.a" CACHE FILEPATH
    "A position-independent libgomp.a for NCOD_STATIC_DEPS (scripts/build-libgomp.sh)")
find_library(NCOD_OPENBLAS_STATIC NAMES libopenblas.a
  HINTS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-pthread)

function(ncod_link_static_deps target)
  if(NOT NCOD_OPENBLAS_STATIC)
    message(FATAL_ERROR "NCOD_STATIC_DEPS: no static OpenBLAS (Debian/Ubuntu: apt-get install libopenblas-dev)")
  endif()
  if(NOT EXISTS "${NCOD_LIBGOMP_PIC}")
    message(FATAL_ERROR "NCOD_STATIC_DEPS: no PIC libgomp.a at ${NCOD_LIBGOMP_PIC}: run scripts/build-libgomp.sh")
  endif()
  message(STATUS "ncod: static dependencies: ${NCOD_OPENBLAS_STATIC}, ${NCOD_LIBGOMP_PIC}")
  set(exports "${CMAKE_SOURCE_DIR}/cmake/addon-exports.map")
  target_sources(${target} PRIVATE "${CMAKE_SOURCE_DIR}/native/static/gfortran_concat.c")
  # OpenMP's compile flag only: linking OpenMP::OpenMP_CXX would add libgomp.so.
  separate_arguments(omp_flags NATIVE_COMMAND "${OpenMP_CXX_FLAGS}")
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CXX>:${omp_flags}>")
  target_link_libraries(${target} PRIVATE ${CMAKE_JS_LIB} "${NCOD_OPENBLAS_STATIC}" "${NCOD_LIBGOMP_PIC}"
    Threads::Threads ${CMAKE_DL_LIBS} m)
  target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc
    "LINKER:--exclude-libs,ALL" "LINKER:--version-script=${exports}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${exports}")
endfunction()
