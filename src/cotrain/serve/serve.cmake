# cpp-httplib for the search service (Debian: libcpp-httplib-dev, installed by
# scripts/setup.sh). Debian ships it split: declarations in httplib.h, code in
# libcpp-httplib.so built with OpenSSL, zlib and Brotli support. Every file that
# includes httplib.h must see the same CPPHTTPLIB_* macros as that build, or
# httplib::Request's layout differs from the library's; hence PUBLIC definitions.
# Without the library (an upstream single-header copy), the header is used alone.
find_path(COTRAIN_HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)
find_library(COTRAIN_HTTPLIB_LIBRARY cpp-httplib)
target_include_directories(cotrain_serve PUBLIC ${COTRAIN_HTTPLIB_INCLUDE_DIR})
target_link_libraries(cotrain_serve PUBLIC Threads::Threads)
if(COTRAIN_HTTPLIB_LIBRARY)
  target_link_libraries(cotrain_serve PUBLIC ${COTRAIN_HTTPLIB_LIBRARY})
  target_compile_definitions(cotrain_serve PUBLIC CPPHTTPLIB_OPENSSL_SUPPORT CPPHTTPLIB_ZLIB_SUPPORT
                             CPPHTTPLIB_BROTLI_SUPPORT)
endif()

# Approximate search for large collections (Debian: libfaiss-dev, installed by
# scripts/setup.sh), optional: without it the service searches exactly and
# `--approximate` says what to install. Debian ships faiss as a static libfaiss.a,
# so its own dependencies (BLAS, LAPACK, OpenMP) are linked here too; libblas.so.3
# resolves to OpenBLAS at run time through Debian's alternatives. Only
# approximate_index.cpp includes faiss's headers.
find_path(COTRAIN_FAISS_INCLUDE_DIR faiss/IndexIVFFlat.h)
find_library(COTRAIN_FAISS_LIBRARY faiss)
find_library(COTRAIN_BLAS_LIBRARY blas)
find_library(COTRAIN_LAPACK_LIBRARY lapack)
find_package(OpenMP COMPONENTS CXX)
if(COTRAIN_FAISS_INCLUDE_DIR AND COTRAIN_FAISS_LIBRARY AND COTRAIN_BLAS_LIBRARY AND COTRAIN_LAPACK_LIBRARY
   AND OpenMP_CXX_FOUND)
  message(STATUS "faiss: ${COTRAIN_FAISS_LIBRARY} (approximate search on)")
  set_property(SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/serve/approximate_index.cpp APPEND PROPERTY
               COMPILE_DEFINITIONS COTRAIN_HAVE_FAISS)
  target_include_directories(cotrain_serve PRIVATE ${COTRAIN_FAISS_INCLUDE_DIR})
  # PRIVATE on a static library: linked into every program that uses it, while
  # OpenMP's -fopenmp stays off the compile lines.
  target_link_libraries(cotrain_serve PRIVATE ${COTRAIN_FAISS_LIBRARY} ${COTRAIN_LAPACK_LIBRARY}
                        ${COTRAIN_BLAS_LIBRARY} $<LINK_ONLY:OpenMP::OpenMP_CXX>)
else()
  message(STATUS "faiss: not found (install libfaiss-dev for approximate search; exact search works)")
endif()
