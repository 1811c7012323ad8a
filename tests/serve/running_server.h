// A search server on a free loopback port, run on a background thread for the
// length of a test, and a raw-socket client for requests that a well-behaved HTTP
// client would never send (traversal attempts, torn requests).
#pragma once
#include <memory>
#include <string>
#include <thread>

#include "cotrain/serve/http_server.h"
#include "serve/serve_fixture.h"

namespace cotrain::serve_test {

class RunningServer {
 public:
  RunningServer(const Collection& c, serve::ServerOptions options = {});
  ~RunningServer();
  int port() const { return port_; }
  serve::SearchService& service() { return *service_; }

 private:
  std::unique_ptr<serve::SearchService> service_;
  std::unique_ptr<serve::SearchServer> server_;
  std::thread thread_;
  int port_ = 0;
};

// Sends `request` bytes as they are to 127.0.0.1:port and returns everything the
// server sends back until it closes the connection or `timeout_s` passes.
std::string raw_http(int port, const std::string& request, double timeout_s = 5.0);
// The status code of a raw response ("HTTP/1.1 404 Not Found" -> 404), or -1.
int raw_status(const std::string& response);

}  // namespace cotrain::serve_test
