#include "backup/s3_client.h"

#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

#include "backup/s3_presign.h"
#include "log/log.h"

namespace tessera::backup {

struct S3Client::Impl {
  Impl(S3ClientOptions o, S3Credentials c)
      : options(std::move(o)),
        credentials(std::move(c)),
        sigv4("aws:amz:" + options.region + ":s3"),
        endpoint_text(options.endpoint.scheme + "://" + options.endpoint.host +
                      (options.endpoint.port.empty() ? "" : ":" + options.endpoint.port)),
        clock(options.clock ? *options.clock : clock::RealSteadyClock()),
        breaker(options.breaker, clock, "S3 store " + endpoint_text) {}
  S3ClientOptions options;
  S3Credentials credentials;
  std::string sigv4;          // CURLOPT_AWS_SIGV4
  std::string endpoint_text;  // for messages
  const clock::SteadyClock& clock;
  mutable CircuitBreaker breaker;
};

namespace {

using Impl = S3Client::Impl;

// SHA-256 of nothing: the payload hash of requests without a body.
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// A listing page of 1000 keys is about 300 KiB of XML.
constexpr std::size_t kMaxAnswerBytes = 8 << 20;
constexpr std::size_t kMaxErrorBytes = 64 << 10;
// What a download holds between the store and its reader.
constexpr std::size_t kDownloadBufferBytes = 256 << 10;

struct EasyFree {
  void operator()(CURL* e) const { curl_easy_cleanup(e); }
};
struct MultiFree {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct ShareFree {
  void operator()(CURLSH* s) const { curl_share_cleanup(s); }
};

// The calling thread's connection and DNS cache, shared by every transfer the thread makes and
// by no other thread (so it needs no lock callbacks).
CURLSH* ThreadShare() {
  struct Holder {
    Holder() : share(curl_share_init()) {
      if (!share) return;
      curl_share_setopt(share.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
      curl_share_setopt(share.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    }
    std::unique_ptr<CURLSH, ShareFree> share;
  };
  thread_local Holder holder;
  return holder.share.get();
}

bool IsTransient(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// One HTTP request to the store on its own easy handle, driven by its own multi handle (so it
// can be paused while its caller waits for the next piece of an upload, or for its reader).
class Transfer {
 public:
  enum class Method { kHead, kGet, kPut, kDelete };

  // `streaming`: a download read piece by piece (GetRange). `time_limit`, when not zero, cuts a
  // transfer without a streamed body at that age.
  Transfer(const Impl& impl, Method method, const std::string& url,
           const std::vector<std::string>& headers, std::string_view payload_sha256,
           bool streaming = false, std::chrono::milliseconds time_limit = {})
      : clock_(impl.clock), wait_limit_(impl.options.request_stall_timeout), streaming_(streaming) {
    multi_.reset(curl_multi_init());
    easy_.reset(curl_easy_init());
    if (!multi_ || !easy_) return;
    CURL* e = easy_.get();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_SHARE, ThreadShare());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, impl.sigv4.c_str());
    // libcurl keeps its own copies of these two (unwiped) for the handle's life.
    curl_easy_setopt(e, CURLOPT_USERNAME, impl.credentials.access_key().c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, impl.credentials.secret().c_str());
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(impl.options.connect_timeout.count()));
    // Streamed bodies pause while their client is slow, which libcurl counts as a stall.
    bool streamed = streaming || method == Method::kPut;
    auto stall = streamed ? impl.options.stream_stall_timeout : impl.options.request_stall_timeout;
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(stall.count()));
    if (!streamed && time_limit.count() > 0)
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(time_limit.count()));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Transfer::OnWrite);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
    switch (method) {
      case Method::kHead:
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        break;
      case Method::kGet:
        break;
      case Method::kPut:
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, &Transfer::OnRead);
        curl_easy_setopt(e, CURLOPT_READDATA, this);
        // No wait for "100 Continue" before a large body: its pace is its client's. (Removing
        // the Expect header instead would not do: libcurl signs every header we set, even an
        // empty one it never sends, and the store then finds the signature wrong.)
        curl_easy_setopt(e, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
        break;
      case Method::kDelete:
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
        break;
    }
    curl_slist* list = nullptr;
    auto add = [&](const std::string& h) {
      if (curl_slist* next = curl_slist_append(list, h.c_str())) list = next;
    };
    add("x-amz-content-sha256: " + std::string(payload_sha256));
    for (const std::string& h : headers) add(h);
    headers_.reset(list);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
    ok_ = true;
  }

  ~Transfer() {
    if (added_) curl_multi_remove_handle(multi_.get(), easy_.get());
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  void SetUploadSize(std::uint64_t length) {
    curl_easy_setopt(easy_.get(), CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(length));
  }

  void Start() {
    if (!ok_ || curl_multi_add_handle(multi_.get(), easy_.get()) != CURLM_OK) {
      done_ = true;
      result_ = CURLE_FAILED_INIT;
      return;
    }
    added_ = true;
  }

  // Runs the transfer until `ready()` holds or it ends. All the while we wait on the store, not
  // on our client: when no byte moves for request_stall_timeout, the transfer is cut
  // (CURLE_OPERATION_TIMEDOUT), also a streamed one, whose libcurl timeout is much longer
  // because it counts the pauses between our calls as well.
  template <typename Ready>
  void Drive(Ready ready) {
    std::uint64_t moved = moved_;
    auto idle_since = clock_.Now();
    while (!done_ && !ready()) {
      int running = 0;
      if (curl_multi_perform(multi_.get(), &running) != CURLM_OK) {
        done_ = true;
        result_ = CURLE_FAILED_INIT;
        break;
      }
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi_.get(), &left)) {
        if (m->msg == CURLMSG_DONE) {
          done_ = true;
          result_ = m->data.result;
        }
      }
      if (done_ || ready()) break;
      if (moved_ != moved) {
        moved = moved_;
        idle_since = clock_.Now();
      } else if (clock_.Now() - idle_since >= wait_limit_) {
        done_ = true;
        result_ = CURLE_OPERATION_TIMEDOUT;
        break;
      }
      curl_multi_poll(multi_.get(), nullptr, 0, 1000, nullptr);
    }
  }
  void Finish() {
    Drive([] { return false; });
  }

  // Lets a paused transfer go on (may call the callbacks at once).
  void Resume() {
    if (!paused_ || done_) return;
    paused_ = false;
    curl_easy_pause(easy_.get(), CURLPAUSE_CONT);
  }

  // Upload: the next piece of the body; the transfer takes it while driven.
  void Give(const char* data, std::size_t size) {
    pending_ = data;
    pending_left_ = size;
  }
  std::size_t pending_left() const { return pending_left_; }
  std::uint64_t handed() const { return handed_; }
  bool read_called() const { return read_called_; }

  // Download: what has arrived and not been taken.
  std::size_t buffered() const { return body_.size() - taken_; }
  std::size_t Take(char* out, std::size_t max) {
    std::size_t n = std::min(max, buffered());
    std::memcpy(out, body_.data() + taken_, n);
    taken_ += n;
    if (taken_ == body_.size()) {
      body_.clear();
      taken_ = 0;
    }
    return n;
  }

  bool done() const { return done_; }
  CURLcode result() const { return result_; }
  long status() const {
    long s = 0;
    if (easy_) curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &s);
    return s;
  }
  const std::string& body() const { return body_; }
  const std::string& error_body() const { return error_body_; }
  std::uint64_t content_length() const {
    curl_off_t n = -1;
    curl_easy_getinfo(easy_.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &n);
    return n < 0 ? 0 : static_cast<std::uint64_t>(n);
  }
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }

 private:
  static std::size_t OnHeader(char* data, std::size_t one, std::size_t n, void* self_ptr) {
    auto* self = static_cast<Transfer*>(self_ptr);
    std::size_t size = one * n;
    self->moved_ += size;
    std::string_view line(data, size);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.starts_with("HTTP/")) {
      self->metadata_.clear();  // a new answer (after a 100 Continue)
      return size;
    }
    constexpr std::string_view kMeta = "x-amz-meta-";
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon <= kMeta.size()) return size;
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    if (!name.starts_with(kMeta) || self->metadata_.size() >= 32) return size;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    self->metadata_.emplace_back(name.substr(kMeta.size()), std::string(value));
    return size;
  }

  static std::size_t OnWrite(char* data, std::size_t one, std::size_t n, void* self_ptr) {
    auto* self = static_cast<Transfer*>(self_ptr);
    std::size_t size = one * n;
    self->moved_ += size;  // also when paused: the store did send it
    long s = self->status();
    if (s < 200 || s >= 300) {
      // An error document: kept for its code, the rest dropped.
      std::size_t room = kMaxErrorBytes - std::min(kMaxErrorBytes, self->error_body_.size());
      self->error_body_.append(data, std::min(room, size));
      return size;
    }
    if (self->streaming_) {
      if (self->buffered() > 0 && self->buffered() + size > kDownloadBufferBytes) {
        self->paused_ = true;
        return CURL_WRITEFUNC_PAUSE;  // delivered again once resumed
      }
    } else if (self->body_.size() + size > kMaxAnswerBytes) {
      return 0;  // an answer this large is not one we asked for: CURLE_WRITE_ERROR
    }
    self->body_.append(data, size);
    return size;
  }

  static std::size_t OnRead(char* out, std::size_t one, std::size_t n, void* self_ptr) {
    auto* self = static_cast<Transfer*>(self_ptr);
    self->read_called_ = true;
    if (self->pending_left_ == 0) {
      self->paused_ = true;
      return CURL_READFUNC_PAUSE;
    }
    std::size_t k = std::min(one * n, self->pending_left_);
    std::memcpy(out, self->pending_, k);
    self->pending_ += k;
    self->pending_left_ -= k;
    self->handed_ += k;
    self->moved_ += k;
    return k;
  }

  const clock::SteadyClock& clock_;
  std::chrono::seconds wait_limit_;
  std::uint64_t moved_ = 0;  // bytes of headers and body in either direction
  // multi_ is declared first so that it goes last, after the easy handle it drove.
  std::unique_ptr<CURLM, MultiFree> multi_;
  std::unique_ptr<CURL, EasyFree> easy_;
  std::unique_ptr<curl_slist, SlistFree> headers_;
  bool ok_ = false, added_ = false, done_ = false, paused_ = false, streaming_;
  CURLcode result_ = CURLE_OK;
  std::string body_, error_body_;
  std::size_t taken_ = 0;
  std::vector<std::pair<std::string, std::string>> metadata_;
  const char* pending_ = nullptr;
  std::size_t pending_left_ = 0;
  std::uint64_t handed_ = 0;
  bool read_called_ = false;
};

struct Failure {
  S3Error error;
  bool transient;
  std::string detail;  // for logs: the status and S3's error code, or libcurl's message
  std::string code;    // S3's error code, if any
};

// nullopt when the transfer ended in a 2xx answer.
std::optional<Failure> Judge(const Transfer& t) {
  if (!t.done()) return Failure{S3Error::kFailed, false, "transfer unfinished", ""};
  if (t.result() != CURLE_OK) {
    bool transient = IsTransient(t.result());
    return Failure{transient ? S3Error::kUnavailable : S3Error::kFailed, transient,
                   curl_easy_strerror(t.result()), ""};
  }
  long status = t.status();
  std::string code = ParseS3ErrorCode(t.error_body());
  auto verdict = S3VerdictOf(status, code);
  if (!verdict) return std::nullopt;
  std::string detail = std::to_string(status) + (code.empty() ? "" : " " + code);
  return Failure{verdict->error, verdict->transient, std::move(detail), std::move(code)};
}

using TimePoint = clock::SteadyClock::TimePoint;

// Pauses before try number `failed_tries` + 1, unless the pause would end at or past
// `deadline`: false then, and the operation gives up.
[[nodiscard]] bool Backoff(const Impl& impl, int failed_tries, TimePoint deadline) {
  auto ms = impl.options.first_backoff.count();
  for (int i = 1; i < failed_tries; ++i) ms *= 3;
  // +-25 % so that workers that failed together do not come back together.
  ms = ms * (75 + static_cast<long>(randombytes_uniform(51))) / 100;
  std::chrono::milliseconds pause(ms);
  if (impl.clock.Now() + pause >= deadline) return false;
  std::this_thread::sleep_for(pause);
  return true;
}

// What is left of an operation's budget, at least 1 ms (libcurl reads 0 as "no limit").
std::chrono::milliseconds Left(const Impl& impl, TimePoint deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - impl.clock.Now());
  return std::max(left, std::chrono::milliseconds(1));
}

// What a request the open breaker kept from the store fails with (not logged: the breaker
// logged its opening once).
Failure Refused() { return Failure{S3Error::kUnavailable, true, "store down (breaker open)", ""}; }

// Tells the breaker how a try went: a transient failure, an answer of the store (any other
// outcome with an HTTP status), or nothing (a transfer we ended ourselves).
void Report(const Impl& impl, CircuitBreaker::Pass& pass, const Transfer& t,
            const std::optional<Failure>& failure) {
  if (failure && failure->transient) {
    impl.breaker.Failed(pass, failure->detail);
  } else if (t.done() && t.result() == CURLE_OK) {
    impl.breaker.Succeeded(pass);
  }
}

void LogFailure(std::string_view what, std::string_view key, const Failure& f, int tries) {
  if (f.error == S3Error::kNotFound || f.error == S3Error::kExists) return;
  std::string line = "S3 " + std::string(what) + " " + std::string(key) + ": " + f.detail;
  if (tries > 1) line += " (after " + std::to_string(tries) + " tries)";
  if (f.error == S3Error::kBadContent) {
    log::Info(line);
  } else {
    log::Warning(line);
  }
}

// Runs a request that `make` builds anew for every try, to its end, trying again after a
// transient failure. The finished transfer, or the last failure.
// `make(time_limit)` builds the transfer of one try, cut at `time_limit`: what is left of the
// operation's budget.
template <typename Make>
std::expected<std::unique_ptr<Transfer>, Failure> RunWithRetries(const Impl& impl,
                                                                 std::string_view what,
                                                                 std::string_view key, Make make) {
  const TimePoint deadline = impl.clock.Now() + impl.options.operation_budget;
  for (int attempt = 1;; ++attempt) {
    std::optional<CircuitBreaker::Pass> pass = impl.breaker.Admit();
    if (!pass) return std::unexpected(Refused());
    std::unique_ptr<Transfer> t = make(Left(impl, deadline));
    t->Start();
    t->Finish();
    auto failure = Judge(*t);
    Report(impl, *pass, *t, failure);
    if (!failure) return t;
    if (!failure->transient || attempt >= impl.options.attempts ||
        !Backoff(impl, attempt, deadline)) {
      LogFailure(what, key, *failure, attempt);
      return std::unexpected(std::move(*failure));
    }
  }
}

std::string ObjectUrl(const Impl& impl, std::string_view key) {
  return S3Url(impl.options.endpoint, impl.options.addressing, impl.options.bucket, key);
}

class Upload final : public S3Upload {
 public:
  Upload(std::shared_ptr<const Impl> impl, std::string key, std::uint64_t length, S3PutOptions put)
      : impl_(std::move(impl)), key_(std::move(key)), length_(length), put_(std::move(put)) {}

  std::expected<void, S3Error> Send(const char* data, std::size_t size) override {
    if (auto started = EnsureStarted(); !started) return started;
    t_->Give(data, size);
    t_->Resume();
    t_->Drive([&] { return t_->pending_left() == 0; });
    if (t_->pending_left() > 0 || t_->done()) {
      // The store answered before taking everything (a refusal), or went away.
      auto failure = Judge(*t_);
      if (t_->pending_left() > 0 && !failure)
        failure = Failure{S3Error::kFailed, false, "answered before the whole body", ""};
      if (failure) return Fail(*failure);
    }
    return {};
  }

  std::expected<void, S3Error> Finish() override {
    if (auto started = EnsureStarted(); !started) return started;
    t_->Finish();
    if (auto failure = Judge(*t_)) return Fail(*failure);
    if (pass_) impl_->breaker.Succeeded(*pass_);
    pass_.reset();
    if (t_->handed() != length_) {
      return Fail(Failure{S3Error::kFailed, false, "body shorter than announced", ""});
    }
    return {};
  }

 private:
  std::expected<void, S3Error> Fail(const Failure& f) {
    if (!failed_) LogFailure("PUT", key_, f, 1);
    if (pass_) Report(*impl_, *pass_, *t_, f);
    pass_.reset();
    failed_ = f.error;
    return std::unexpected(f.error);
  }

  std::unique_ptr<Transfer> Make() const {
    std::vector<std::string> headers;
    if (put_.if_none_match) headers.push_back("If-None-Match: *");
    for (const auto& [name, value] : put_.metadata)
      headers.push_back("x-amz-meta-" + name + ": " + value);
    auto t = std::make_unique<Transfer>(
        *impl_, Transfer::Method::kPut, ObjectUrl(*impl_, key_), headers,
        put_.payload_sha256.empty() ? std::string_view("UNSIGNED-PAYLOAD") : put_.payload_sha256);
    t->SetUploadSize(length_);
    return t;
  }

  // Starts the request and waits until the store is ready for the body. While it has taken no
  // byte, a transient failure is tried again.
  std::expected<void, S3Error> EnsureStarted() {
    if (failed_) return std::unexpected(*failed_);
    if (t_) return {};
    const TimePoint deadline = impl_->clock.Now() + impl_->options.operation_budget;
    for (int attempt = 1;; ++attempt) {
      pass_ = impl_->breaker.Admit();
      if (!pass_) {
        failed_ = S3Error::kUnavailable;
        return std::unexpected(*failed_);
      }
      t_ = Make();
      t_->Start();
      t_->Drive([&] { return t_->read_called(); });
      if (!t_->done()) return {};  // the pass is reported once the store answers
      auto failure = Judge(*t_);
      Report(*impl_, *pass_, *t_, failure);
      pass_.reset();
      if (!failure) return {};  // an empty body, already answered
      if (!failure->transient || attempt >= impl_->options.attempts ||
          !Backoff(*impl_, attempt, deadline)) {
        LogFailure("PUT", key_, *failure, attempt);
        failed_ = failure->error;
        return std::unexpected(failure->error);
      }
    }
  }

  std::shared_ptr<const Impl> impl_;
  std::string key_;
  std::uint64_t length_;
  S3PutOptions put_;
  std::unique_ptr<Transfer> t_;
  // The breaker's pass for the transfer in flight (after impl_, which holds the breaker).
  std::optional<CircuitBreaker::Pass> pass_;
  std::optional<S3Error> failed_;
};

class RangeSource final : public http::BodySource {
 public:
  RangeSource(std::shared_ptr<const Impl> impl, std::string key, std::uint64_t offset,
              std::uint64_t length)
      : impl_(std::move(impl)), key_(std::move(key)), offset_(offset), left_(length) {}

  std::ptrdiff_t Read(char* buffer, std::size_t size) override {
    if (left_ == 0) return 0;
    while (!t_ || t_->buffered() == 0) {
      if (!Fill()) return -1;
    }
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size, left_));
    std::size_t n = t_->Take(buffer, want);
    offset_ += n;
    left_ -= n;
    return static_cast<std::ptrdiff_t>(n);
  }

 private:
  // Gets more bytes into the transfer's buffer, starting (or, after a transient failure,
  // resuming) the ranged GET where the reader is. False when the store fails for good.
  //
  // The budget of its tries runs from the start of the first one since bytes last came.
  bool Fill() {
    if (!t_) {
      pass_ = impl_->breaker.Admit();
      if (!pass_) return false;
      if (failures_ == 0) deadline_ = impl_->clock.Now() + impl_->options.operation_budget;
      std::string range =
          "Range: bytes=" + std::to_string(offset_) + "-" + std::to_string(offset_ + left_ - 1);
      t_ = std::make_unique<Transfer>(*impl_, Transfer::Method::kGet, ObjectUrl(*impl_, key_),
                                      std::vector<std::string>{range}, kEmptySha256,
                                      /*streaming=*/true);
      t_->Start();
      started_at_ = offset_;
    }
    t_->Resume();
    t_->Drive([&] { return t_->buffered() > 0; });
    if (t_->buffered() > 0) {
      if (pass_) impl_->breaker.Succeeded(*pass_);
      pass_.reset();
      // A store that ignored the range and sent the object from its start is no use beyond 0.
      long status = t_->status();
      if (status == 206 || (status == 200 && started_at_ == 0)) {
        failures_ = 0;
        return true;
      }
      LogFailure("GET", key_, Failure{S3Error::kFailed, false, std::to_string(status), ""}, 1);
      return false;
    }
    auto failure = Judge(*t_);
    // Ended well but short: the connection closed early. Resume like after a reset.
    if (!failure) failure = Failure{S3Error::kUnavailable, true, "answer shorter than asked", ""};
    if (pass_) Report(*impl_, *pass_, *t_, failure);
    pass_.reset();
    ++failures_;
    if (!failure->transient || failures_ >= impl_->options.attempts ||
        !Backoff(*impl_, failures_, deadline_)) {
      LogFailure("GET", key_, *failure, failures_);
      return false;
    }
    t_.reset();
    return true;
  }

  std::shared_ptr<const Impl> impl_;
  std::string key_;
  std::uint64_t offset_, left_;
  std::uint64_t started_at_ = 0;
  int failures_ = 0;
  TimePoint deadline_{};
  std::unique_ptr<Transfer> t_;
  std::optional<CircuitBreaker::Pass> pass_;  // until the transfer's first bytes or its end
};

}  // namespace

std::optional<S3Verdict> S3VerdictOf(long status, std::string_view code) {
  if (status >= 200 && status < 300) return std::nullopt;
  switch (status) {
    case 404:
      return S3Verdict{code == "NoSuchBucket" ? S3Error::kNoBucket : S3Error::kNotFound, false};
    case 412:
      return S3Verdict{S3Error::kExists, false};
    case 403:
      return S3Verdict{S3Error::kDenied, false};
    case 400:
      if (code == "XAmzContentSHA256Mismatch" || code == "BadDigest")
        return S3Verdict{S3Error::kBadContent, false};
      break;
    case 408:  // request timeout
    case 429:  // slow down (other stores)
      return S3Verdict{S3Error::kUnavailable, true};
    default:
      if (status >= 500) return S3Verdict{S3Error::kUnavailable, true};  // 503 SlowDown too
      break;
  }
  return S3Verdict{S3Error::kFailed, false};
}

std::string_view S3ErrorName(S3Error e) {
  switch (e) {
    case S3Error::kNotFound:
      return "not found";
    case S3Error::kNoBucket:
      return "no such bucket";
    case S3Error::kExists:
      return "exists";
    case S3Error::kBadContent:
      return "content does not match its hash";
    case S3Error::kDenied:
      return "access denied";
    case S3Error::kUnavailable:
      return "store unavailable";
    case S3Error::kFailed:
      break;
  }
  return "failed";
}

std::optional<std::string> S3ObjectHead::Meta(std::string_view name) const {
  for (const auto& [n, v] : metadata)
    if (n == name) return v;
  return std::nullopt;
}

// libcurl's global set-up is main's, before threads start (backup/s3_init.h).
S3Client::S3Client(S3ClientOptions options, S3Credentials credentials) {
  impl_ = std::make_shared<const Impl>(std::move(options), std::move(credentials));
}

S3Client::~S3Client() = default;

const S3ClientOptions& S3Client::options() const { return impl_->options; }

const CircuitBreaker& S3Client::breaker() const { return impl_->breaker; }

std::string S3Client::PresignedUrl(std::string_view key, const clock::Clock& clock) const {
  const S3ClientOptions& o = impl_->options;
  auto url = PresignGet(impl_->credentials, o.endpoint, o.addressing, o.region, o.bucket, key,
                        clock.Now(), kPresignedLifetime);
  return o.endpoint.scheme + "://" + url.host + url.path_and_query;
}

std::expected<S3ObjectHead, S3Error> S3Client::Head(std::string_view key) const {
  auto t = RunWithRetries(*impl_, "HEAD", key, [&](std::chrono::milliseconds limit) {
    return std::make_unique<Transfer>(*impl_, Transfer::Method::kHead, ObjectUrl(*impl_, key),
                                      std::vector<std::string>{}, kEmptySha256, false, limit);
  });
  if (!t) return std::unexpected(t.error().error);
  return S3ObjectHead{(*t)->content_length(), (*t)->metadata()};
}

std::expected<void, S3Error> S3Client::Delete(std::string_view key) const {
  auto t = RunWithRetries(*impl_, "DELETE", key, [&](std::chrono::milliseconds limit) {
    return std::make_unique<Transfer>(*impl_, Transfer::Method::kDelete, ObjectUrl(*impl_, key),
                                      std::vector<std::string>{}, kEmptySha256, false, limit);
  });
  if (!t && t.error().error != S3Error::kNotFound) return std::unexpected(t.error().error);
  return {};
}

namespace {
std::expected<S3ListPage, Failure> ListPage(const Impl& impl, std::string_view prefix,
                                            std::string_view delimiter, std::string_view token,
                                            int max_keys) {
  std::vector<std::pair<std::string, std::string>> query = {
      {"list-type", "2"}, {"prefix", std::string(prefix)}, {"max-keys", std::to_string(max_keys)}};
  if (!delimiter.empty()) query.emplace_back("delimiter", std::string(delimiter));
  if (!token.empty()) query.emplace_back("continuation-token", std::string(token));
  std::string url = S3Url(impl.options.endpoint, impl.options.addressing, impl.options.bucket, "",
                          S3CanonicalQuery(std::move(query)));
  auto t = RunWithRetries(impl, "LIST", prefix, [&](std::chrono::milliseconds limit) {
    return std::make_unique<Transfer>(impl, Transfer::Method::kGet, url, std::vector<std::string>{},
                                      kEmptySha256, false, limit);
  });
  if (!t) return std::unexpected(t.error());
  auto page = ParseS3ListPage((*t)->body());
  if (!page) {
    Failure f{S3Error::kFailed, false, "malformed ListObjectsV2 answer", ""};
    LogFailure("LIST", prefix, f, 1);
    return std::unexpected(f);
  }
  return std::move(*page);
}
}  // namespace

std::expected<S3ListPage, S3Error> S3Client::List(std::string_view prefix,
                                                  std::string_view delimiter,
                                                  std::string_view token, int max_keys) const {
  auto page = ListPage(*impl_, prefix, delimiter, token, max_keys);
  if (!page) return std::unexpected(page.error().error);
  return std::move(*page);
}

std::unique_ptr<S3Upload> S3Client::BeginPut(std::string_view key, std::uint64_t length,
                                             S3PutOptions put) const {
  return std::make_unique<Upload>(impl_, std::string(key), length, std::move(put));
}

std::expected<void, S3Error> S3Client::Put(std::string_view key, std::string_view body,
                                           S3PutOptions put) const {
  auto upload = BeginPut(key, body.size(), std::move(put));
  if (!body.empty()) {
    if (auto sent = upload->Send(body.data(), body.size()); !sent) return sent;
  }
  return upload->Finish();
}

std::shared_ptr<http::BodySource> S3Client::GetRange(std::string key, std::uint64_t offset,
                                                     std::uint64_t length) const {
  return std::make_shared<RangeSource>(impl_, std::move(key), offset, length);
}

std::expected<void, std::pair<S3Error, std::string>> S3Client::CheckBucket(
    std::string_view prefix) const {
  auto page = ListPage(*impl_, prefix, "", "", 1);
  if (page) return {};
  const Failure& f = page.error();
  const std::string& bucket = impl_->options.bucket;
  const std::string& access = impl_->credentials.access_key();
  std::string where =
      " (S3 store " + impl_->endpoint_text + ", bucket " + bucket + ": " + f.detail + ")";
  std::string message;
  switch (f.error) {
    case S3Error::kDenied:
      if (f.code == "InvalidAccessKeyId") {
        message = "the S3 store does not know the access key " + access;
      } else if (f.code == "SignatureDoesNotMatch") {
        message = "the S3 secret key is wrong for access key " + access;
      } else {
        message = "the S3 credentials (access key " + access + ") may not list the bucket";
      }
      break;
    case S3Error::kNoBucket:
    case S3Error::kNotFound:
      message = "the S3 bucket " + bucket + " does not exist";
      break;
    case S3Error::kUnavailable:
      message = "the S3 store does not answer";
      break;
    default:
      message = "the S3 store refused to list the bucket";
      break;
  }
  return std::unexpected(std::make_pair(f.error, message + where));
}

}  // namespace tessera::backup
