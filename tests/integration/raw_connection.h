// A raw HTTP connection for slow-client tests: it sends exactly what it is told, when it is told,
// and reads only what has already arrived, so a test can play a client that trickles a body or
// reads an answer at a crawl — what cpp-httplib never does.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace tessera::testing {

class RawConnection {
 public:
  // Connects to 127.0.0.1:port from `source` (another loopback address is another client to the
  // web server's REMOTE_ADDR). `receive_buffer` > 0 shrinks the receive window, so an unread
  // response backs up at once. Throws when the connection is refused.
  explicit RawConnection(int port, int receive_buffer = 0, const char* source = "127.0.0.1") {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0)
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    if (inet_pton(AF_INET, source, &from.sin_addr) != 1 ||
        bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      close(fd_);
      throw std::runtime_error(std::string("cannot bind to ") + source);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  ~RawConnection() { Close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Closes the connection (what has been received stays). Idempotent.
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // Returns false once the server (or Close) has closed or reset the connection.
  bool Send(const std::string& data) {
    if (fd_ < 0) return false;
    return send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Takes at most `n` bytes that have already arrived, without waiting, and drops them.
  void ReadSome(std::size_t n) {
    if (fd_ < 0) return;
    std::string scratch(n, '\0');
    (void)recv(fd_, scratch.data(), n, MSG_DONTWAIT);
  }
  // Appends what has arrived (at most 64 KiB a call) to received(), without waiting.
  const std::string& Receive() {
    if (fd_ < 0) return received_;
    char buffer[64 * 1024];
    ssize_t n = recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) received_.append(buffer, static_cast<std::size_t>(n));
    return received_;
  }
  const std::string& received() const { return received_; }
  // Bytes that have arrived and wait to be read (0 once closed).
  std::size_t Pending() const {
    int n = 0;
    if (fd_ < 0 || ioctl(fd_, FIONREAD, &n) != 0 || n < 0) return 0;
    return static_cast<std::size_t>(n);
  }
  // The status of the answer that has arrived so far (`HTTP/1.1 NNN`), or 0.
  int Status() const {
    if (received_.size() < 12 || received_.compare(0, 5, "HTTP/") != 0) return 0;
    return std::stoi(received_.substr(9, 3));
  }

 private:
  int fd_;
  std::string received_;
};

}  // namespace tessera::testing
