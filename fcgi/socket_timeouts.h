// The receive and send timeouts of one FastCGI connection, set only when they change.
//
// Every wait on the web server is bounded from its transfer deadline (fcgi/transfer_deadline.h),
// so the timeouts are re-armed before each wait, and a restic pack arrives in libfcgi reads of
// 8 KiB: one setsockopt per read was an eighth of the worker's CPU on uploads.
#pragma once

#include <sys/socket.h>

#include <chrono>

namespace tessera::fcgi {

// SO_RCVTIMEO and SO_SNDTIMEO of one connection's socket. Not thread-safe: one per connection,
// used by the thread serving it.
class SocketTimeouts {
 public:
  // A shortening by at most this much is not worth a system call: the wait ends that much late.
  static constexpr std::chrono::milliseconds kSlack{250};

  explicit SocketTimeouts(int fd) : fd_(fd) {}
  // Bound the next waits to receive or send to `timeout` (at least 1 ms: 0 would mean "wait
  // forever"). A longer timeout is always set; a shorter one only when it is shorter by more than
  // kSlack. Return false if the kernel refused.
  bool Receive(std::chrono::milliseconds timeout) { return Set(SO_RCVTIMEO, timeout, receive_); }
  bool Send(std::chrono::milliseconds timeout) { return Set(SO_SNDTIMEO, timeout, send_); }

 private:
  bool Set(int option, std::chrono::milliseconds timeout, std::chrono::milliseconds& armed);

  int fd_;
  std::chrono::milliseconds receive_{-1};  // -1: not set by us yet
  std::chrono::milliseconds send_{-1};
};

}  // namespace tessera::fcgi
