// `cotrain serve` over real HTTP on loopback: the API, thumbnails, refusals with
// reasons, path traversal attempts, size limits, timeouts, concurrent clients.
#include <gtest/gtest.h>

#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "serve/running_server.h"
#include "support/support.h"

using cotrain::serve_test::make_collection;
using cotrain::serve_test::raw_http;
using cotrain::serve_test::raw_status;
using cotrain::serve_test::RunningServer;
using cotrain::testing::read_file;
using nlohmann::json;

namespace {
json body_of(const httplib::Result& r) { return json::parse(r->body, nullptr, false); }
}  // namespace

TEST(ServeHttp, ApiAnswersTextAndImageQueries) {
  auto c = make_collection("http-api");
  RunningServer server(c);
  httplib::Client cli("127.0.0.1", server.port());

  auto r = cli.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("<title>cotrain search</title>"), std::string::npos);
  EXPECT_NE(r->get_header_value("Content-Security-Policy").find("default-src 'none'"), std::string::npos);

  r = cli.Get("/api/info");
  ASSERT_TRUE(r);
  EXPECT_EQ(body_of(r)["images"], 6);
  EXPECT_EQ(body_of(r)["texts"], 6);

  r = cli.Post("/api/text-to-images", R"({"query": "a red heart", "k": 4})", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json a = body_of(r);
  ASSERT_EQ(a["results"].size(), 4u);
  // The same answer as the service gives directly (timing aside).
  json direct = server.service().text_to_images("a red heart", 4);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(a["results"][i]["id"], direct["results"][i]["id"]);
    EXPECT_DOUBLE_EQ(a["results"][i]["score"].get<double>(), direct["results"][i]["score"].get<double>());
  }
  // Its thumbnail URL serves the index's file.
  const std::string thumb = a["results"][0]["thumbnail"];
  r = cli.Get(thumb.c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(r->body, read_file(c.index + thumb));

  r = cli.Post("/api/text-to-texts", R"({"query": "smiling face with tears of joy"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(body_of(r)["results"].size(), 6u);  // default k 10, 6 texts
  EXPECT_EQ(body_of(r)["results"][0]["text"], "smiling face with tears of joy");

  // Image upload as the body, and as a multipart form.
  const std::string green = read_file(c.images + "/green.png");
  r = cli.Post("/api/image-to-images?k=2", green, "image/png");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body_of(r)["results"][0]["id"], "green.png");
  EXPECT_EQ(body_of(r)["results"].size(), 2u);
  httplib::MultipartFormDataItems form = {{"image", green, "green.png", "image/png"}};
  r = cli.Post("/api/image-to-texts?k=3", form);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body_of(r)["results"].size(), 3u);
  EXPECT_EQ(body_of(r)["mode"], "image-to-texts");
}

TEST(ServeHttp, MalformedRequestsGet4xxWithAReason) {
  auto c = make_collection("http-bad");
  cotrain::serve::ServerOptions o;
  o.max_body_bytes = 64 * 1024;
  RunningServer server(c, o);
  httplib::Client cli("127.0.0.1", server.port());
  struct Case {
    std::string path, body, type;
    int status;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"/api/text-to-images", "{\"query\": ", "application/json", 400, "not valid JSON"},
      {"/api/text-to-images", "[1]", "application/json", 400, "must be a JSON object"},
      {"/api/text-to-images", "{\"q\": \"cat\"}", "application/json", 400, "\"query\" must be a string"},
      {"/api/text-to-images", "{\"query\": \"cat\", \"k\": \"5\"}", "application/json", 400, "\"k\" must be an integer"},
      {"/api/text-to-images", "{\"query\": \"cat\", \"k\": 1000}", "application/json", 400, "k must be between 1 and 100"},
      {"/api/text-to-images", "{\"query\": \"\"}", "application/json", 400, "the query is empty"},
      {"/api/text-to-texts", "query=cat", "application/x-www-form-urlencoded", 415, "application/json"},
      {"/api/image-to-texts", "{}", "application/json", 415, "Content-Type image/png"},
      {"/api/image-to-texts", "hello, this is text", "image/gif", 415, "not a PNG, JPEG"},
      {"/api/image-to-texts?k=abc", "x", "image/png", 400, "k must be a positive integer"},
      {"/api/nowhere", "{}", "application/json", 404, "no such page"},
  };
  for (const auto& k : cases) {
    auto r = cli.Post(k.path.c_str(), k.body, k.type.c_str());
    ASSERT_TRUE(r) << k.path;
    EXPECT_EQ(r->status, k.status) << k.path << " " << k.body << ": " << r->body;
    json b = body_of(r);
    ASSERT_TRUE(b.is_object()) << r->body;
    EXPECT_NE(b.value("error", "").find(k.reason), std::string::npos) << r->body;
  }
  auto r = cli.Get("/api/text-to-images");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  // Larger than the body limit: 413 before the handler runs.
  r = cli.Post("/api/image-to-texts", std::string(100 * 1024, 'x'), "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  // Not HTTP at all.
  EXPECT_EQ(raw_status(raw_http(server.port(), "HELLO\r\n\r\n")), 400);
  // The server still answers.
  r = cli.Post("/api/text-to-texts", R"({"query": "cat", "k": 1})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(ServeHttp, NoFileOutsideTheIndexThumbnailsIsServed) {
  auto c = make_collection("http-traversal");
  // A secret beside the index and a link inside thumbs/ pointing out of it.
  cotrain::testing::write_file(c.root + "/secret.txt", "TOP-SECRET");
  std::filesystem::remove(c.index + "/thumbs/0000005.png");
  std::filesystem::create_symlink("../../secret.txt", c.index + "/thumbs/0000005.png");
  RunningServer server(c);
  const std::string index_json = read_file(c.index + "/index.json");
  const std::vector<std::string> attempts = {
      "/thumbs/../index.json",
      "/thumbs/../../secret.txt",
      "/thumbs/%2e%2e/index.json",
      "/thumbs/%2E%2E%2Findex.json",
      "/thumbs/..%2f..%2fsecret.txt",
      "/thumbs/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/thumbs//etc/passwd",
      "/thumbs/%2fetc%2fpasswd",
      "/thumbs/" + c.root + "/secret.txt",
      "/thumbs/..\\index.json",
      "/thumbs/0000001.png%00.txt",
      "/thumbs/9999999.png",
      "/thumbs/0000005.png",  // listed, but a link to outside thumbs/
      "/../index.json",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/etc/passwd",
      "//etc/passwd",
      c.root + "/secret.txt",
      "/index.json",
      "/ids.json",
      "/embeddings.safetensors",
  };
  for (const auto& path : attempts) {
    const std::string response = raw_http(server.port(), "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const int status = raw_status(response);
    EXPECT_GE(status, 400) << path << "\n" << response.substr(0, 200);
    EXPECT_LT(status, 500) << path;
    EXPECT_EQ(response.find("TOP-SECRET"), std::string::npos) << path;
    EXPECT_EQ(response.find("cotrain-index"), std::string::npos) << path;
    EXPECT_EQ(response.find("root:"), std::string::npos) << path;
  }
  // The link is refused as outside the folder, not as missing.
  EXPECT_EQ(raw_status(raw_http(server.port(), "GET /thumbs/0000005.png HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")),
            403);
  // A genuine thumbnail still works through the same raw path.
  EXPECT_EQ(raw_status(raw_http(server.port(), "GET /thumbs/0000001.png HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")),
            200);
}

TEST(ServeHttp, SlowClientsTimeOutWithoutBlockingOthers) {
  auto c = make_collection("http-timeout");
  cotrain::serve::ServerOptions o;
  o.read_timeout_s = 1;
  o.keep_alive_timeout_s = 1;
  o.threads = 4;
  RunningServer server(c, o);
  // A client that sends half a request and stalls.
  std::atomic<double> closed_after{-1};
  std::thread slow([&] {
    const auto t0 = std::chrono::steady_clock::now();
    raw_http(server.port(), "POST /api/text-to-texts HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"qu", 8.0);
    closed_after = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  httplib::Client cli("127.0.0.1", server.port());
  auto r = cli.Post("/api/text-to-texts", R"({"query": "cat", "k": 2})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  slow.join();
  EXPECT_GT(closed_after.load(), 0.5);
  EXPECT_LT(closed_after.load(), 4.0) << "the server kept a stalled connection open";
}

TEST(ServeHttp, ConcurrentClientsGetConsistentAnswers) {
  auto c = make_collection("http-concurrent");
  RunningServer server(c);
  const std::vector<std::string> queries = {"a red heart", "smiling face", "a cat", "blue square"};
  std::vector<json> expected;
  for (const auto& q : queries) expected.push_back(server.service().text_to_images(q, 5)["results"]);
  std::atomic<int> ok{0}, wrong{0};
  std::vector<std::thread> clients;
  const int kClients = 8, kRequests = 12;
  for (int t = 0; t < kClients; ++t)
    clients.emplace_back([&, t] {
      httplib::Client cli("127.0.0.1", server.port());
      for (int i = 0; i < kRequests; ++i) {
        const size_t q = static_cast<size_t>(t + i) % queries.size();
        auto r = cli.Post("/api/text-to-images", json{{"query", queries[q]}, {"k", 5}}.dump(), "application/json");
        if (r && r->status == 200 && body_of(r)["results"] == expected[q]) ++ok;
        else ++wrong;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
  EXPECT_EQ(wrong.load(), 0);
}
