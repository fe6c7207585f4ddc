// The metrics registry and its text exposition: sums over threads, label escaping, histogram
// buckets, and the cap on label sets that folds the rest into "other".
#include "metrics/registry.h"

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "metrics/metrics.h"
#include "metrics/text_format.h"

using namespace tessera::metrics;

namespace {

std::string Rendered(const Registry& registry) {
  TextWriter out;
  registry.Render(out);
  return out.text();
}

// The value of `series` (its name and labels) in `text`, 0 when it is absent.
double Value(const std::string& text, const std::string& series) {
  std::size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + series.size() + 2));
}

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

}  // namespace

TEST_CASE("label values escape backslash, quote and line feed, and nothing else") {
  struct Case {
    std::string in, out;
  };
  for (const Case& c : std::vector<Case>{
           {"alice@pbs", "alice@pbs"},
           {"a\\b", "a\\\\b"},
           {"say \"hi\"", "say \\\"hi\\\""},
           {"two\nlines", "two\\nlines"},
           {"tab\tand ümlaut", "tab\tand ümlaut"},
           {"", ""},
       }) {
    INFO(c.in);
    CHECK(EscapeLabelValue(c.in) == c.out);
  }
}

TEST_CASE("a family is a HELP line, a TYPE line and its samples") {
  TextWriter out;
  out.Family("x_total", "counter", "Things, with a \\ and\na line feed \"quoted\".");
  out.Sample("x_total", {{"account", "a\"b"}, {"type", "data"}}, std::uint64_t{7});
  out.Sample("x_total", {}, 0.25);
  CHECK(out.text() ==
        "# HELP x_total Things, with a \\\\ and\\na line feed \"quoted\".\n"
        "# TYPE x_total counter\n"
        "x_total{account=\"a\\\"b\",type=\"data\"} 7\n"
        "x_total 0.25\n");
}

TEST_CASE("sample values read back exactly, infinities as +Inf and -Inf") {
  CHECK(FormatValue(1) == "1");
  CHECK(FormatValue(0.005) == "0.005");
  CHECK(FormatValue(1.0 / 0.0) == "+Inf");
  CHECK(FormatValue(-1.0 / 0.0) == "-Inf");
  CHECK(FormatValue(0.0 / 0.0) == "NaN");
}

TEST_CASE("counters recorded by many threads add up, each thread's series apart") {
  Registry r;
  Group g = r.AddCounters({{"ops_total", "Ops."}, {"ops_bytes_total", "Bytes."}},
                          {{"account", false}, {"type", true}}, 100);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&r, g, t] {
      for (int i = 0; i < 1000; ++i) {
        r.Add(g, {"alice@pbs", "data"}, 0, {1, 10});
        if (t % 2 == 0) r.Add(g, {"bob@pbs", "index"}, 1, {3});
      }
    });
  }
  for (auto& t : threads) t.join();
  std::string text = Rendered(r);
  INFO(text);
  CHECK(Has(text, "ops_total{account=\"alice@pbs\",type=\"data\"} 8000"));
  CHECK(Has(text, "ops_bytes_total{account=\"alice@pbs\",type=\"data\"} 80000"));
  // Only the bytes were added for bob; his count is there, and zero.
  CHECK(Has(text, "ops_total{account=\"bob@pbs\",type=\"index\"} 0"));
  CHECK(Has(text, "ops_bytes_total{account=\"bob@pbs\",type=\"index\"} 12000"));
  CHECK(text.starts_with("# HELP ops_total Ops.\n# TYPE ops_total counter\n"));
}

TEST_CASE("counts of threads that ended stay, and their shards serve new threads") {
  Registry r;
  Group g = r.AddCounters({{"n_total", "N."}}, {}, 1);
  for (int round = 0; round < 50; ++round) {
    std::thread([&] { r.Add(g, {}, 0, {2}); }).join();
  }
  CHECK(Has(Rendered(r), "n_total 100"));
}

TEST_CASE("label sets past the cap are counted as other, keeping bounded labels") {
  Registry r;
  Group g = r.AddCounters({{"blob_total", "Blobs."}},
                          {{"account", false}, {"repo", false}, {"type", true}}, 2);
  r.Add(g, {"a@pbs", "r1", "data"}, 0, {1});
  r.Add(g, {"b@pbs", "r1", "data"}, 0, {1});
  // Full: new label sets fold, from this thread and from others.
  r.Add(g, {"c@pbs", "r1", "data"}, 0, {1});
  std::thread([&] { r.Add(g, {"d@pbs", "r2", "data"}, 0, {5}); }).join();
  r.Add(g, {"e@pbs", "r3", "keys"}, 0, {1});
  // An admitted label set is still counted as itself, also in another thread.
  std::thread([&] { r.Add(g, {"a@pbs", "r1", "data"}, 0, {1}); }).join();
  std::string text = Rendered(r);
  INFO(text);
  CHECK(Has(text, "blob_total{account=\"a@pbs\",repo=\"r1\",type=\"data\"} 2"));
  CHECK(Has(text, "blob_total{account=\"b@pbs\",repo=\"r1\",type=\"data\"} 1"));
  CHECK(Has(text, "blob_total{account=\"other\",repo=\"other\",type=\"data\"} 6"));
  CHECK(Has(text, "blob_total{account=\"other\",repo=\"other\",type=\"keys\"} 1"));
  CHECK(text.find("c@pbs") == std::string::npos);
  CHECK(text.find("d@pbs") == std::string::npos);
  // Two admitted series and two folded ones: the samples are exactly those.
  std::size_t samples = 0;
  for (std::size_t at = 0; (at = text.find("\nblob_total{", at)) != std::string::npos; ++at)
    ++samples;
  CHECK(samples == 4);
}

TEST_CASE("label values cannot run into each other in a series' key") {
  Registry r;
  Group g = r.AddCounters({{"k_total", "K."}}, {{"a", false}, {"b", false}}, 10);
  r.Add(g, {"1:x", ""}, 0, {1});
  r.Add(g, {"1", "x"}, 0, {1});
  std::string text = Rendered(r);
  INFO(text);
  CHECK(Has(text, "k_total{a=\"1:x\",b=\"\"} 1"));
  CHECK(Has(text, "k_total{a=\"1\",b=\"x\"} 1"));
}

TEST_CASE("a histogram writes cumulative buckets, +Inf, sum and count") {
  Registry r;
  // Binary fractions, so the sum is exact; a value equal to a bound lies in that bound's bucket.
  Group h = r.AddHistogram({"d_seconds", "D."}, {{"route", false}}, {0.25, 0.5, 1}, 10);
  for (double v : {0.125, 0.25, 0.375, 0.75, 8.0}) r.Observe(h, {"/x"}, v);
  std::string text = Rendered(r);
  INFO(text);
  CHECK(text.find("# TYPE d_seconds histogram\n") != std::string::npos);
  CHECK(Has(text, "d_seconds_bucket{route=\"/x\",le=\"0.25\"} 2"));
  CHECK(Has(text, "d_seconds_bucket{route=\"/x\",le=\"0.5\"} 3"));
  CHECK(Has(text, "d_seconds_bucket{route=\"/x\",le=\"1\"} 4"));
  CHECK(Has(text, "d_seconds_bucket{route=\"/x\",le=\"+Inf\"} 5"));
  CHECK(Has(text, "d_seconds_sum{route=\"/x\"} 9.5"));
  CHECK(Has(text, "d_seconds_count{route=\"/x\"} 5"));
}

TEST_CASE("a counter of another group or too many label values is a bug, not a count") {
  Registry r;
  Group g = r.AddCounters({{"a_total", "A."}}, {{"x", true}}, 10);
  CHECK_THROWS_AS(r.Add(g, {"1", "2"}, 0, {1}), std::invalid_argument);
  CHECK_THROWS_AS(r.Add(g, {"1"}, 1, {1}), std::invalid_argument);
  CHECK_THROWS_AS(r.Observe(g, {"1"}, 1.0), std::invalid_argument);
}

TEST_CASE("Tessera's metrics name the request's route, and unmatched ones as such") {
  // The process's registry is shared with the other tests: compare what these calls added.
  const std::string unmatched =
      "tessera_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}";
  const std::string fast =
      "tessera_http_request_duration_seconds_bucket{route=\"/api2/json/version\",le=\"0.001\"}";
  const std::string written =
      "tessera_blob_write_bytes_total{account=\"unit@metrics\",repo=\"r\",type=\"data\"}";
  const std::string read =
      "tessera_blob_read_total{account=\"unit@metrics\",repo=\"r\",type=\"data\"}";
  const std::string revoked = "tessera_authentications_total{kind=\"token\",outcome=\"revoked\"}";
  TextWriter before;
  Render(before);
  CountRequest("", "GET", 404, std::chrono::microseconds(1500));
  CountRequest("/api2/json/version", "GET", 200, std::chrono::microseconds(300));
  CountBlob(BlobOp::kWrite, "unit@metrics", "r", "data", 1234);
  CountAuthentication("token", "revoked");
  TextWriter after;
  Render(after);
  INFO(after.text());
  CHECK(Value(after.text(), unmatched) == Value(before.text(), unmatched) + 1);
  CHECK(Value(after.text(), fast) == Value(before.text(), fast) + 1);
  CHECK(Value(after.text(), written) == 1234);
  CHECK(Value(after.text(), read) == 0);
  CHECK(after.text().find("\n" + read + " 0\n") != std::string::npos);
  CHECK(Value(after.text(), revoked) == Value(before.text(), revoked) + 1);
}

TEST_CASE("an account past its share folds into its own other, never into another account's") {
  Registry r;
  // Each account admits 4 label sets, 3 accounts are kept apart, 100 label sets in all.
  Group g =
      r.AddCounters({{"blob_total", "Blobs."}},
                    {{"account", false}, {"repo", false}, {"type", true}}, 100, Partition{0, 4, 3});
  // bob counts one repository first; then alice writes 700 repositories (a busy tenant).
  r.Add(g, {"bob@pbs", "home", "data"}, 0, {1});
  for (int i = 0; i < 700; ++i) r.Add(g, {"alice@pbs", "r" + std::to_string(i), "data"}, 0, {1});
  r.Add(g, {"alice@pbs", "r699", "keys"}, 0, {1});
  // bob's later repositories, also from another thread, are still his own series.
  std::thread([&] { r.Add(g, {"bob@pbs", "work", "data"}, 0, {2}); }).join();
  r.Add(g, {"bob@pbs", "home", "data"}, 0, {1});
  // A third account still has room; a fourth is past the account cap.
  r.Add(g, {"carol@pbs", "c", "index"}, 0, {1});
  r.Add(g, {"dave@pbs", "d", "index"}, 0, {1});
  std::string text = Rendered(r);
  INFO(text);
  CHECK(Has(text, "blob_total{account=\"bob@pbs\",repo=\"home\",type=\"data\"} 2"));
  CHECK(Has(text, "blob_total{account=\"bob@pbs\",repo=\"work\",type=\"data\"} 2"));
  CHECK(Has(text, "blob_total{account=\"carol@pbs\",repo=\"c\",type=\"index\"} 1"));
  // alice's first four repositories are hers; the other 696 are her own "other".
  for (int i = 0; i < 4; ++i)
    CHECK(Has(text, "blob_total{account=\"alice@pbs\",repo=\"r" + std::to_string(i) +
                        "\",type=\"data\"} 1"));
  CHECK(Has(text, "blob_total{account=\"alice@pbs\",repo=\"other\",type=\"data\"} 696"));
  CHECK(Has(text, "blob_total{account=\"alice@pbs\",repo=\"other\",type=\"keys\"} 1"));
  CHECK(text.find("r4\"") == std::string::npos);
  // The account label set is bounded too: the fourth account is the common other.
  CHECK(Has(text, "blob_total{account=\"other\",repo=\"other\",type=\"index\"} 1"));
  CHECK(text.find("dave@pbs") == std::string::npos);
  // 4 (alice) + 2 (bob) + 1 (carol) admitted, 2 of alice's folded, 1 common: nothing else.
  std::size_t samples = 0;
  for (std::size_t at = 0; (at = text.find("\nblob_total{", at)) != std::string::npos; ++at)
    ++samples;
  CHECK(samples == 10);
}

TEST_CASE("once the whole group is full, every known account still folds into its own other") {
  Registry r;
  Group g =
      r.AddCounters({{"blob_total", "Blobs."}},
                    {{"account", false}, {"repo", false}, {"type", true}}, 3, Partition{0, 2, 10});
  r.Add(g, {"a@pbs", "r1", "data"}, 0, {1});
  r.Add(g, {"a@pbs", "r2", "data"}, 0, {1});
  r.Add(g, {"b@pbs", "r1", "data"}, 0, {1});
  // Full (3 label sets): b has share left, but the group has not; c arrives only now.
  r.Add(g, {"b@pbs", "r2", "data"}, 0, {1});
  r.Add(g, {"c@pbs", "r1", "data"}, 0, {1});
  std::string text = Rendered(r);
  INFO(text);
  CHECK(Has(text, "blob_total{account=\"b@pbs\",repo=\"other\",type=\"data\"} 1"));
  CHECK(Has(text, "blob_total{account=\"c@pbs\",repo=\"other\",type=\"data\"} 1"));
  CHECK(text.find("account=\"other\"") == std::string::npos);
}

TEST_CASE("a partition must be one of the group's unbounded labels") {
  Registry r;
  CHECK_THROWS_AS(r.AddCounters({{"x_total", "X."}}, {{"a", false}}, 10, Partition{1, 1, 1}),
                  std::invalid_argument);
  CHECK_THROWS_AS(r.AddCounters({{"x_total", "X."}}, {{"a", true}}, 10, Partition{0, 1, 1}),
                  std::invalid_argument);
}
