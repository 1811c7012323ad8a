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
