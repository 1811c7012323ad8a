// `cotrain serve`'s HTTP front (cpp-httplib, Debian libcpp-httplib-dev):
//   GET  /                      the search page (web_page.h)
//   GET  /api/info              collection sizes, model, limits
//   POST /api/text-to-images    {"query": "...", "k": 10}      (application/json)
//   POST /api/text-to-texts     same
//   POST /api/image-to-texts    the image file as the body (image/*, or
//   POST /api/image-to-images   application/octet-stream), or multipart field
//                               "image"; k as ?k=10
//   GET  /thumbs/NNNNNNN.png    thumbnails, only those the index lists, only from
//                               the index folder's thumbs/
// Hardening: body size limit (413), read/write timeouts, a bounded worker pool,
// every refusal a 4xx with {"error": reason}, no file outside INDEX/thumbs served.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "cotrain/serve/search_service.h"

namespace cotrain::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                   // 0: any free port (see bind())
  size_t max_body_bytes = 8u << 20;  // requests larger than this get 413
  int read_timeout_s = 10;
  int write_timeout_s = 10;
  int keep_alive_timeout_s = 5;
  int threads = 8;                   // connections served at once
  bool log_requests = true;          // one line per request on stderr
};

class SearchServer {
 public:
  SearchServer(SearchService& service, ServerOptions options);
  ~SearchServer();
  // Binds the socket; returns the port (the chosen one when options.port is 0).
  // Fails with cotrain::Error when the address cannot be bound.
  int bind();
  // Serves until stop(); returns when stopped. Call bind() first.
  void run();
  // Thread-safe; makes run() return.
  void stop();
  // True once run() accepts connections.
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cotrain::serve
