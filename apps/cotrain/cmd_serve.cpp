// `cotrain serve`: the search service over an index folder written by `cotrain
// index` -- a JSON API and a small web page (serve/http_server.h lists the routes).
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>
#include <pthread.h>
#include <thread>

#include "command.h"
#include "common_options.h"
#include "cotrain/core/error.h"
#include "cotrain/serve/http_server.h"

namespace cotrain::app {
namespace {

struct ServeArgs {
  std::string index, model;
  serve::ServerOptions server;
  serve::SearchLimits limits;
  int64_t max_body_mb = 8, threads = 0, breadth = 0;
  bool quiet = false, exact = false;
};

Runner setup(CLI::App& cmd) {
  auto a = std::make_shared<ServeArgs>();
  cmd.add_option("--index", a->index, "index folder written by 'cotrain index'")->required();
  cmd.add_option("--model", a->model, "the UNIMO model that wrote the index (default: the one index.json names)");
  cmd.add_option("--host", a->server.host, "address to listen on (0.0.0.0 exposes the service to the network)")
      ->capture_default_str();
  cmd.add_option("--port", a->server.port, "port (0: any free port, printed at start)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd.add_option("--workers", a->server.threads, "connections served at once")->capture_default_str()->check(CLI::Range(1, 256));
  cmd.add_option("--max-body-mb", a->max_body_mb, "largest request accepted (MiB)")->capture_default_str()->check(CLI::Range(1, 256));
  cmd.add_option("--timeout", a->server.read_timeout_s, "seconds a client may take to send a request")
      ->capture_default_str()
      ->check(CLI::Range(1, 600));
  cmd.add_option("--max-k", a->limits.max_k, "most results one query may ask for")->capture_default_str();
  cmd.add_option("--threads", a->threads, "compute threads (0: all cores)")->capture_default_str();
  cmd.add_flag("--exact", a->exact, "exact search even when the index has an approximate one");
  cmd.add_option("--nprobe,--ef-search", a->breadth,
                 "approximate index: lists scanned (ivf) or beam width (hnsw) per query (0: as built)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_flag("--quiet", a->quiet, "no line per request on stderr");
  return [a] {
    apply_thread_count(a->threads);
    a->server.max_body_bytes = static_cast<size_t>(a->max_body_mb) << 20;
    a->server.write_timeout_s = a->server.read_timeout_s;
    a->server.log_requests = !a->quiet;
    serve::EmbeddingIndex index = serve::load_index(a->index);
    serve::EncoderOptions eo;
    const auto& meta = index.meta;
    try {
      if (meta.contains("max_regions")) eo.max_regions = meta["max_regions"].get<int64_t>();
      if (meta.contains("grid")) {
        eo.grid.image_size = meta["grid"].at("image_size").get<int64_t>();
        eo.grid.grid = meta["grid"].at("grid").get<int64_t>();
        eo.grid.pool = meta["grid"].at("pool").get<int64_t>();
      }
    } catch (const nlohmann::json::exception& e) {
      fail("{}/index.json: bad \"grid\" or \"max_regions\": {}", a->index, e.what());
    }
    std::string model = a->model;
    if (model.empty()) {
      if (!meta.contains("model") || !meta["model"].is_string())
        fail("{}/index.json names no model: give --model", a->index);
      model = meta["model"].get<std::string>();
    }
    serve::ApproximatePair approximate;
    if (!a->exact) approximate = serve::load_approximate(index, a->breadth);
    serve::SearchService service(std::move(index), std::make_unique<serve::UnimoEncoder>(model, eo), a->limits);
    service.use_approximate(std::move(approximate));
    serve::SearchServer server(service, a->server);
    // SIGINT/SIGTERM: handled by one thread with sigwait (blocked everywhere else,
    // including the worker threads, which inherit this mask), which stops the server.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    const int port = server.bind();
    std::thread waiter([&] {
      int sig = 0;
      sigwait(&signals, &sig);
      server.stop();
    });
    auto info = service.info();
    if (info.contains("approximate")) info["approximate"].erase("recall");
    std::cout << "serving " << info["images"] << " images and " << info["texts"] << " texts ("
              << (info.contains("approximate") ? info["approximate"].dump() : std::string("exact search"))
              << ") at http://"
              << a->server.host << ":" << port << "/  (Ctrl-C stops)" << std::endl;
    server.run();
    // run() returned: either a signal (the waiter is done) or a failure; wake the waiter.
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    std::cout << "stopped" << std::endl;
    return 0;
  };
}

Registration reg("serve", "search service (JSON API + web page) over an index from 'cotrain index'", setup);

}  // namespace
}  // namespace cotrain::app
