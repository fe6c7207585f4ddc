// Translates between libfcgi and the core: FastCGI parameters and stdin become an http::Request,
// an http::Response becomes the CGI-style answer on FastCGI stdout. No decisions are made here.
//
// Every wait on the web server is bounded (fcgi/transfer_deadline.h): a body that trickles in,
// or a response that the web server takes off too slowly, is cut instead of holding the thread.
#pragma once

#include <fcgiapp.h>

#include <chrono>
#include <cstdint>
#include <optional>

#include "fcgi/socket_timeouts.h"
#include "fcgi/transfer_deadline.h"
#include "http/request.h"
#include "http/response.h"

namespace tessera::fcgi {

// The request body, read from FastCGI stdin as the handler asks for it. Not thread-safe.
class FcgiBody final : public http::BodyReader {
 public:
  // The deadline starts now. `raw` must have been accepted (raw.ipcFd open); `timeouts` are its
  // connection's and must outlive the body.
  FcgiBody(FCGX_Request& raw, TransferLimits limits, SocketTimeouts& timeouts);

  // Returns what has arrived, at most `size` bytes, waiting only while nothing has; 0 at the end
  // of the body; -1 when the connection failed or the body came too slowly (logged), and from
  // then on.
  std::ptrdiff_t Read(char* buffer, std::size_t size) override;

  // Reads and discards up to `max` more bytes of what has arrived already, waiting for nothing
  // that is still on its way (a client that trickles is never waited for). Returns true when
  // the body has then been read to its end without error (the connection can carry another
  // request); false leaves the body unfinished, not failed.
  [[nodiscard]] bool DrainArrived(std::uint64_t max);

  // Whether the body has been read to its end without error.
  bool Finished() const;
  // Whether a read failed or the deadline passed: the peer is gone or too slow.
  bool Failed() const { return failed_; }
  // How many body bytes have been read.
  std::uint64_t received() const { return received_; }

 private:
  std::ptrdiff_t Fail(bool too_slow);
  // Read, waiting for the socket at most `wait` (and the deadline); a wait that runs out returns
  // -1 without failing the body (nothing is logged).
  std::ptrdiff_t ReadWithin(char* buffer, std::size_t size,
                            std::optional<std::chrono::milliseconds> wait);

  FCGX_Stream* in_;
  SocketTimeouts& timeouts_;
  TransferLimits limits_;
  TransferDeadline deadline_;
  std::uint64_t received_ = 0;
  bool failed_ = false;
};

// Fills `request` from the parameters of `raw`. Returns false when the parameters are malformed
// (bad Content-Length, too many or too large headers): the caller answers 400.
bool ToRequest(const FCGX_Request& raw, FcgiBody* body, http::Request* request);

// What WriteResponse did: whether the whole response went out, and how many body bytes did.
struct Written {
  bool complete = false;
  std::uint64_t body_bytes = 0;
};

// Writes `response`; without the body when `head` is true (the length is still announced). Each
// wait for the web server to take more is bounded by `limits`. `complete` is false when the
// response could not be written completely (the web server went away or took it too slowly;
// logged): the connection must then be dropped, never reused.
Written WriteResponse(FCGX_Request& raw, const http::Response& response, bool head,
                      TransferLimits limits, SocketTimeouts& timeouts);

}  // namespace tessera::fcgi
