#include "cotrain/serve/http_server.h"

#include <httplib.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/serve/web_page.h"

namespace cotrain::serve {

namespace fs = std::filesystem;

namespace {

void send_error(httplib::Response& res, int status, const std::string& reason) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", reason}, {"status", status}}.dump(-1, ' ', false,
                                                                              nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void send_json(httplib::Response& res, const nlohmann::json& j) {
  res.status = 200;
  res.set_content(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::string content_type(const httplib::Request& req) {
  std::string t = req.get_header_value("Content-Type");
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

// Runs a handler, turning refusals into 4xx answers with their reason.
httplib::Server::Handler guarded(std::function<void(const httplib::Request&, httplib::Response&)> handler) {
  return [handler](const httplib::Request& req, httplib::Response& res) {
    try {
      handler(req, res);
    } catch (const BadRequest& e) {
      send_error(res, e.status, e.what());
    } catch (const Error& e) {
      send_error(res, 400, e.what());
    }
  };
}

int64_t parse_k(const nlohmann::json& value) {
  if (!value.is_number_integer()) throw BadRequest(400, "\"k\" must be an integer");
  return value.get<int64_t>();
}

int64_t parse_k(const std::string& text) {
  if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos)
    throw BadRequest(400, "k must be a positive integer");
  return std::stoll(text);
}

}  // namespace

struct SearchServer::Impl {
  SearchService& service;
  ServerOptions options;
  httplib::Server server;
  std::set<std::string> thumbnails;  // the names the index lists
  fs::path thumbs_root;              // canonical INDEX/thumbs

  Impl(SearchService& s, ServerOptions o) : service(s), options(std::move(o)) {
    for (const auto& e : service.index().image_entries)
      if (!e.thumbnail.empty()) thumbnails.insert(e.thumbnail);
    std::error_code ec;
    thumbs_root = fs::weakly_canonical(fs::path(service.index().dir) / "thumbs", ec);
    setup();
  }

  void json_search(const httplib::Request& req, httplib::Response& res, bool to_images) {
    if (!starts_with(content_type(req), "application/json"))
      throw BadRequest(415, "send the query as application/json: {\"query\": \"...\", \"k\": 10}");
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded()) throw BadRequest(400, "the body is not valid JSON");
    if (!body.is_object()) throw BadRequest(400, "the body must be a JSON object {\"query\": \"...\", \"k\": 10}");
    if (!body.contains("query") || !body["query"].is_string()) throw BadRequest(400, "\"query\" must be a string");
    const int64_t k = body.contains("k") ? parse_k(body["k"]) : 10;
    const std::string query = body["query"].get<std::string>();
    send_json(res, to_images ? service.text_to_images(query, k) : service.text_to_texts(query, k));
  }

  void image_search(const httplib::Request& req, httplib::Response& res, bool to_images) {
    const int64_t k = req.has_param("k") ? parse_k(req.get_param_value("k")) : 10;
    std::string bytes;
    if (req.is_multipart_form_data()) {
      if (!req.has_file("image")) throw BadRequest(400, "the form has no \"image\" file field");
      bytes = req.get_file_value("image").content;
    } else {
      const std::string type = content_type(req);
      if (!starts_with(type, "image/") && !starts_with(type, "application/octet-stream"))
        throw BadRequest(415, "send the image file as the body (Content-Type image/png, image/jpeg, ...) or as the "
                              "multipart field \"image\"");
      bytes = req.body;
    }
    send_json(res, to_images ? service.image_to_images(bytes, k) : service.image_to_texts(bytes, k));
  }

  void thumbnail(const httplib::Request& req, httplib::Response& res) {
    const std::string rest = req.matches[1];
    const std::string name = "thumbs/" + rest;
    if (rest.find("..") != std::string::npos || rest.find('/') != std::string::npos ||
        rest.find('\\') != std::string::npos || rest.find('\0') != std::string::npos)
      throw BadRequest(400, "thumbnail names are plain file names inside the index");
    if (!is_thumbnail_name(name) || !thumbnails.count(name)) throw BadRequest(404, "no such thumbnail");
    // The index listed it and the name is digits: still, resolve links and make sure
    // the file lies inside INDEX/thumbs before reading it.
    std::error_code ec;
    const fs::path resolved = fs::weakly_canonical(fs::path(service.index().dir) / name, ec);
    const fs::path rel = resolved.lexically_relative(thumbs_root);
    if (ec || rel.empty() || starts_with(rel.string(), "..") || rel.is_absolute())
      throw BadRequest(403, "the thumbnail lies outside the index folder");
    if (!fs::is_regular_file(resolved, ec)) throw BadRequest(404, "the thumbnail file is missing from the index");
    res.set_content(read_whole_file(resolved.string()), "image/png");
    res.set_header("Cache-Control", "max-age=3600");
  }

  void setup() {
    auto& s = server;
    s.set_payload_max_length(options.max_body_bytes);
    s.set_read_timeout(options.read_timeout_s, 0);
    s.set_write_timeout(options.write_timeout_s, 0);
    s.set_keep_alive_timeout(options.keep_alive_timeout_s);
    s.set_keep_alive_max_count(100);
    // Headers and body leave in separate writes; with Nagle's algorithm the body
    // waits for the client's delayed ACK (~40 ms on Linux) on every keep-alive
    // request -- the load test's single-connection latency was 48 ms for 8 of work.
    s.set_tcp_nodelay(true);
    const int threads = std::max(1, options.threads);
    s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    s.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                           {"X-Frame-Options", "DENY"},
                           {"Referrer-Policy", "no-referrer"}});

    s.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(search_page_html(), "text/html; charset=utf-8");
      res.set_header("Content-Security-Policy",
                     "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' "
                     "data:; connect-src 'self'; form-action 'none'; base-uri 'none'");
    });
    s.Get("/api/info", guarded([this](const httplib::Request&, httplib::Response& res) { send_json(res, service.info()); }));
    s.Post("/api/text-to-images", guarded([this](const auto& req, auto& res) { json_search(req, res, true); }));
    s.Post("/api/text-to-texts", guarded([this](const auto& req, auto& res) { json_search(req, res, false); }));
    s.Post("/api/image-to-texts", guarded([this](const auto& req, auto& res) { image_search(req, res, false); }));
    s.Post("/api/image-to-images", guarded([this](const auto& req, auto& res) { image_search(req, res, true); }));
    for (const char* path : {"/api/text-to-images", "/api/text-to-texts", "/api/image-to-texts", "/api/image-to-images"})
      s.Get(path, [](const httplib::Request&, httplib::Response& res) {
        send_error(res, 405, "use POST for searches");
        res.set_header("Allow", "POST");
      });
    s.Get(R"(/thumbs/(.*))", guarded([this](const auto& req, auto& res) { thumbnail(req, res); }));

    s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;  // a handler already said why
      switch (res.status) {
        case 404: send_error(res, 404, "no such page"); break;
        case 413: send_error(res, 413, "the request is too large"); break;
        case 400: send_error(res, 400, "malformed request"); break;
        default: send_error(res, res.status, "request refused");
      }
    });
    s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        send_error(res, 500, std::string("internal error: ") + e.what());
      } catch (...) {
        send_error(res, 500, "internal error");
      }
    });
    if (options.log_requests)
      s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        std::fprintf(stderr, "%s %s -> %d (%zu bytes)\n", req.method.c_str(), req.path.c_str(), res.status,
                     res.body.size());
      });
  }
};

SearchServer::SearchServer(SearchService& service, ServerOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {}

SearchServer::~SearchServer() { stop(); }

int SearchServer::bind() {
  auto& o = impl_->options;
  if (o.port == 0) {
    const int port = impl_->server.bind_to_any_port(o.host);
    if (port <= 0) fail("serve: cannot bind {} (is it an address of this machine?)", o.host);
    o.port = port;
  } else if (!impl_->server.bind_to_port(o.host, o.port)) {
    fail("serve: cannot bind {}:{} (port in use? try --port 0 for any free port)", o.host, o.port);
  }
  return o.port;
}

bool SearchServer::running() const { return impl_->server.is_running(); }

void SearchServer::run() { impl_->server.listen_after_bind(); }

void SearchServer::stop() {
  if (impl_ && impl_->server.is_running()) impl_->server.stop();
}

}  // namespace cotrain::serve
