// A minimal FastCGI client (FastCGI spec 1.0, section 3 and 5) so tests can talk to the worker
// without a web server in between and control exactly when each part of a request is sent.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tessera::testing {

class FcgiClient {
 public:
  // Connects to a unix socket. Throws when the connection is refused.
  explicit FcgiClient(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  ~FcgiClient() { close(fd_); }

  // Makes later reads throw "timed out" after waiting `ms` milliseconds for data.
  void SetReadTimeout(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  // Shrinks the receive buffer (before anything is read), so a response that is not read fills
  // the connection quickly.
  void SetReceiveBuffer(int bytes) { setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes); }

  // With `keep_connection`, asks the worker to keep the connection for another request
  // (FCGI_KEEP_CONN, as nginx's fastcgi_keep_conn does).
  void Begin(const std::vector<std::pair<std::string, std::string>>& params,
             bool keep_connection = false) {
    // BEGIN_REQUEST: role RESPONDER, flags
    Record(1, std::string("\0\1", 2) + static_cast<char>(keep_connection ? 1 : 0) +
                  std::string(5, '\0'));
    std::string body;
    for (const auto& [k, v] : params) {
      Length(body, k.size());
      Length(body, v.size());
      body += k + v;
    }
    // A record carries at most 65535 bytes; the PARAMS stream may span several (section 3.3).
    for (std::size_t at = 0; at < body.size(); at += kMaxContent)
      Record(4, body.substr(at, kMaxContent));
    Record(4, "");
  }
  void Stdin(const std::string& data) { Record(5, data); }

  // Sends a request without a body and returns the status from the "Status: NNN" line the
  // worker's answer starts with. Throws when the connection fails or the line is missing.
  int Status(const std::vector<std::pair<std::string, std::string>>& params) {
    Begin(params);
    Stdin("");
    std::string response = ReadResponse();
    if (response.size() < 11 || !response.starts_with("Status: ")) {
      throw std::runtime_error("no Status line: " + response.substr(0, 80));
    }
    return std::stoi(response.substr(8, 3));
  }

  // Reads until END_REQUEST and returns everything written to STDOUT.
  std::string ReadResponse() {
    std::string out;
    for (;;) {
      std::string header = ReadN(8);
      auto type = static_cast<unsigned char>(header[1]);
      std::size_t len =
          (static_cast<unsigned char>(header[4]) << 8) | static_cast<unsigned char>(header[5]);
      std::string content = ReadN(len + static_cast<unsigned char>(header[6]));
      if (type == 6) out += content.substr(0, len);
      if (type == 3) return out;
    }
  }

 private:
  static constexpr std::size_t kMaxContent = 65535;

  static void Length(std::string& out, std::size_t n) {
    if (n < 128) {
      out.push_back(static_cast<char>(n));
    } else {
      out.push_back(static_cast<char>(0x80 | (n >> 24)));
      out.push_back(static_cast<char>(n >> 16));
      out.push_back(static_cast<char>(n >> 8));
      out.push_back(static_cast<char>(n));
    }
  }
  void Record(int type, const std::string& content) {
    std::string r = {1,
                     static_cast<char>(type),
                     0,
                     1,
                     static_cast<char>(content.size() >> 8),
                     static_cast<char>(content.size() & 0xff),
                     0,
                     0};
    r += content;
    if (write(fd_, r.data(), r.size()) != static_cast<ssize_t>(r.size())) {
      throw std::runtime_error("write failed");
    }
  }
  std::string ReadN(std::size_t n) {
    std::string s(n, '\0');
    std::size_t got = 0;
    while (got < n) {
      ssize_t r = read(fd_, s.data() + got, n - got);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) throw std::runtime_error("timed out");
      if (r <= 0) throw std::runtime_error("connection closed");
      got += static_cast<std::size_t>(r);
    }
    return s;
  }
  int fd_;
};

// A worker's whole answer, parsed.
struct RawAnswer {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// One request straight to the worker on `socket` over FastCGI, as a web server would send it;
// `extra` adds parameters (headers as HTTP_*, or TESSERA_DOWNLOAD_HANDOFF). Throws when the
// answer is not a CGI response with a Status line.
inline RawAnswer AskWorker(const std::string& socket, const std::string& method,
                           const std::string& uri, const std::string& token,
                           const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  FcgiClient worker(socket);
  worker.SetReadTimeout(10000);
  std::vector<std::pair<std::string, std::string>> params = {
      {"REQUEST_METHOD", method},
      {"REQUEST_URI", uri},
      {"REMOTE_ADDR", "127.0.0.1"},
      {"HTTP_AUTHORIZATION", "Bearer " + token}};
  params.insert(params.end(), extra.begin(), extra.end());
  worker.Begin(params);
  worker.Stdin("");
  std::string raw = worker.ReadResponse();
  RawAnswer out;
  std::size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) throw std::runtime_error("no end of headers: " + raw.substr(0, 80));
  out.body = raw.substr(end + 4);
  std::size_t at = 0;
  while (at < end) {
    std::size_t eol = raw.find("\r\n", at);
    if (eol == std::string::npos || eol > end) eol = end;
    std::string line = raw.substr(at, eol - at);
    std::size_t colon = line.find(": ");
    if (colon == std::string::npos) throw std::runtime_error("not a header line: " + line);
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = line.substr(colon + 2);
    at = eol + 2;
  }
  if (!out.headers.contains("status")) throw std::runtime_error("no Status line");
  out.status = std::stoi(out.headers["status"]);
  return out;
}

}  // namespace tessera::testing
