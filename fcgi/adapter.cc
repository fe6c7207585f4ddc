#include "fcgi/adapter.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "log/log.h"

namespace tessera::fcgi {
namespace {
constexpr std::size_t kMaxHeaders = 128;
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;
// Responses go out in pieces this large, the deadline re-armed before each.
constexpr std::size_t kWritePiece = 64 * 1024;
// A streamed answer is read from its source in pieces of at most this size.
constexpr std::size_t kStreamPiece = 256 * 1024;

using Clock = TransferDeadline::Clock;

// A web server that sends a TESSERA_DOWNLOAD_HANDOFF this worker cannot read is misconfigured on
// every request: say so once, not per download.
void WarnBadHandoffOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    log::Warning(std::string(http::kDownloadHandoffParam) +
                 " is not `x-accel-redirect /<location>/` or `x-sendfile`: downloads are "
                 "streamed by the worker");
  });
}

bool TimedOut(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

std::string HeaderName(std::string_view cgi_name) {
  std::string out;
  out.reserve(cgi_name.size());
  for (char c : cgi_name) {
    out.push_back(c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}
}  // namespace

FcgiBody::FcgiBody(FCGX_Request& raw, TransferLimits limits, SocketTimeouts& timeouts)
    : in_(raw.in), timeouts_(timeouts), limits_(limits), deadline_(limits, Clock::now()) {}

std::ptrdiff_t FcgiBody::Fail(bool too_slow) {
  if (!failed_ && too_slow) {
    log::Warning("request body cut after " + std::to_string(received_) +
                 " bytes: the client sent it too slowly (io_timeout, min_transfer_rate)");
  }
  failed_ = true;
  return -1;
}

std::ptrdiff_t FcgiBody::Read(char* buffer, std::size_t size) {
  return ReadWithin(buffer, size, std::nullopt);
}

std::ptrdiff_t FcgiBody::ReadWithin(char* buffer, std::size_t size,
                                    std::optional<std::chrono::milliseconds> wait) {
  if (failed_ || FCGX_GetError(in_) != 0) return Fail(false);
  if (size == 0) return 0;
  int want = static_cast<int>(std::min<std::size_t>(size, 1 << 20));
  // libfcgi's FCGX_GetStr blocks until it has `want` bytes, however slowly they come. So hand
  // out what is buffered; only when nothing is, wait for one fill (one FastCGI record's worth)
  // with the socket timeout set to what is left of the deadline (or to `wait`).
  std::ptrdiff_t buffered = in_->stop - in_->rdNext;
  int n = 0;
  if (buffered > 0) {
    n = FCGX_GetStr(buffer, static_cast<int>(std::min<std::ptrdiff_t>(want, buffered)), in_);
  } else {
    if (FCGX_HasSeenEOF(in_)) return 0;
    auto left = deadline_.Remaining(Clock::now());
    if (left.count() <= 0) return Fail(true);
    timeouts_.Receive(std::min({left, limits_.timeout, wait.value_or(limits_.timeout)}));
    n = FCGX_GetStr(buffer, 1, in_);
    std::ptrdiff_t more = in_->stop - in_->rdNext;
    if (n == 1 && want > 1 && more > 0) {
      n += FCGX_GetStr(buffer + 1, static_cast<int>(std::min<std::ptrdiff_t>(want - 1, more)), in_);
    }
  }
  if (int error = FCGX_GetError(in_); error != 0 || n < 0) {
    // A drain that found nothing more within its short wait: the body is unfinished, the peer
    // not at fault (the stream is spent all the same: the connection is not reused).
    if (wait && TimedOut(error)) return -1;
    return Fail(TimedOut(error));
  }
  received_ += static_cast<std::uint64_t>(n);
  deadline_.Progress(static_cast<std::uint64_t>(n), Clock::now());
  return n;
}

bool FcgiBody::Finished() const {
  return !failed_ && FCGX_GetError(in_) == 0 && FCGX_HasSeenEOF(in_) != 0;
}

bool FcgiBody::DrainArrived(std::uint64_t max) {
  // What has arrived may sit in libfcgi's buffer past the current record, where no poll(2) of
  // the socket sees it: so read, with a wait short enough that a client still sending is not
  // waited for.
  constexpr std::chrono::milliseconds kArrivedWait{1};
  char scratch[8192];
  std::uint64_t drained = 0;
  while (drained <= max) {
    std::ptrdiff_t n = ReadWithin(scratch, sizeof scratch, kArrivedWait);
    if (n < 0) return false;
    if (n == 0) return true;
    drained += static_cast<std::uint64_t>(n);
  }
  return false;
}

bool ToRequest(const FCGX_Request& raw, FcgiBody* body, http::Request* request) {
  std::string_view request_uri;
  std::string_view document_uri;
  std::size_t header_bytes = 0;
  for (char** p = raw.envp; p != nullptr && *p != nullptr; ++p) {
    std::string_view entry(*p);
    std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = entry.substr(0, eq);
    std::string_view value = entry.substr(eq + 1);
    if (name.starts_with("HTTP_")) {
      header_bytes += entry.size();
      if (request->headers.size() >= kMaxHeaders || header_bytes > kMaxHeaderBytes) return false;
      request->headers.emplace_back(HeaderName(name.substr(5)), value);
    } else if (name == "REQUEST_METHOD") {
      request->method = http::ParseMethod(value);
    } else if (name == "REQUEST_URI") {
      request_uri = value;
    } else if (name == "DOCUMENT_URI") {
      document_uri = value;
    } else if (name == "QUERY_STRING") {
      request->query = value;
    } else if (name == "CONTENT_TYPE") {
      request->content_type = value;
    } else if (name == "CONTENT_LENGTH") {
      if (value.empty()) continue;
      std::uint64_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size()) return false;
      request->content_length = n;
    } else if (name == "REMOTE_ADDR") {
      request->remote_addr = value;
    } else if (name == http::kDownloadHandoffParam) {
      // A value we cannot read means no handoff: the worker streams (and says why, once).
      auto handoff = http::ParseDownloadHandoff(value);
      if (handoff) {
        request->handoff = std::move(*handoff);
      } else {
        WarnBadHandoffOnce();
      }
    }
  }
  // REQUEST_URI is what the client sent, under nginx and Apache alike (Apache sets no
  // DOCUMENT_URI); the router decodes it. DOCUMENT_URI is only a fallback.
  std::string_view path = request_uri.substr(0, request_uri.find('?'));
  if (path.empty()) path = document_uri;
  request->path = path;
  request->body = body;
  return true;
}

namespace {

// Puts bytes on FastCGI stdout with the send timeout re-armed from the deadline before each
// piece, so that a web server that stops reading cannot hold the thread.
class TimedWriter {
 public:
  TimedWriter(FCGX_Request& raw, TransferLimits limits, SocketTimeouts& timeouts)
      : raw_(raw), timeouts_(timeouts), limits_(limits), deadline_(limits, Clock::now()) {}

  bool Put(const char* data, std::size_t size) {
    while (size > 0) {
      std::size_t piece = std::min(size, kWritePiece);
      if (!Arm()) return false;
      if (FCGX_PutStr(data, static_cast<int>(piece), raw_.out) < 0) return Failed();
      deadline_.Progress(piece, Clock::now());
      sent_ += piece;
      data += piece;
      size -= piece;
    }
    return true;
  }

  bool Flush() { return Arm() && (FCGX_FFlush(raw_.out) == 0 || Failed()); }

 private:
  bool Arm() {
    auto left = deadline_.Remaining(Clock::now());
    if (left.count() <= 0) {
      log::Warning("response cut after " + std::to_string(sent_) +
                   " bytes: the web server took it too slowly (io_timeout, min_transfer_rate)");
      return false;
    }
    timeouts_.Send(std::min(left, limits_.timeout));
    return true;
  }

  bool Failed() {
    int error = FCGX_GetError(raw_.out);
    if (TimedOut(error)) {
      log::Warning("response cut after " + std::to_string(sent_) +
                   " bytes: the web server took it too slowly (io_timeout, min_transfer_rate)");
    } else {
      log::Info("response cut after " + std::to_string(sent_) + " bytes: the web server went away");
    }
    return false;
  }

  FCGX_Request& raw_;
  SocketTimeouts& timeouts_;
  TransferLimits limits_;
  TransferDeadline deadline_;
  std::uint64_t sent_ = 0;
};

}  // namespace

Written WriteResponse(FCGX_Request& raw, const http::Response& response, bool head,
                      TransferLimits limits, SocketTimeouts& timeouts) {
  std::string head_text;
  head_text.reserve(128);
  head_text.append("Status: ")
      .append(std::to_string(response.status))
      .append(" ")
      .append(http::ReasonPhraseOf(response))
      .append("\r\n");
  for (const auto& [name, value] : response.headers) {
    head_text.append(name).append(": ").append(value).append("\r\n");
  }
  std::optional<std::uint64_t> length =
      response.stream ? response.stream_length : std::optional<std::uint64_t>(response.body.size());
  if (length) head_text.append("Content-Length: ").append(std::to_string(*length)).append("\r\n");
  head_text.append("\r\n");
  TimedWriter out(raw, limits, timeouts);
  if (!out.Put(head_text.data(), head_text.size())) return {};
  if (head) return {out.Flush(), 0};
  if (!response.stream) {
    bool sent = out.Put(response.body.data(), response.body.size());
    return {sent && out.Flush(), sent ? response.body.size() : 0};
  }
  // Stream in fixed pieces: memory stays flat whatever the object's size. A short read of a
  // known length means the file changed or failed under us; the connection is then cut rather
  // than padded. A source of unknown length ends when it returns 0.
  // The buffer is no larger than the answer (restic's config, keys and locks are a few hundred
  // bytes) and left uninitialised: zeroing 256 KiB cost more than sending a small object.
  std::size_t size = static_cast<std::size_t>(
      std::min<std::uint64_t>(length.value_or(kStreamPiece), kStreamPiece));
  auto buffer = std::make_unique_for_overwrite<char[]>(std::max<std::size_t>(size, 1));
  std::uint64_t left = length.value_or(UINT64_MAX);
  std::uint64_t sent = 0;
  while (left > 0) {
    std::ptrdiff_t n = response.stream->Read(buffer.get(), std::min<std::uint64_t>(left, size));
    if (n == 0 && !length) break;
    if (n <= 0) {
      log::Error("response source failed after a short read: connection cut");
      return {false, sent};
    }
    if (!out.Put(buffer.get(), static_cast<std::size_t>(n))) return {false, sent};
    sent += static_cast<std::uint64_t>(n);
    left -= static_cast<std::uint64_t>(n);
  }
  return {out.Flush(), sent};
}

}  // namespace tessera::fcgi
