// Translates between libfcgi and the core: FastCGI parameters and stdin become an http::Request,
// an http::Response becomes the CGI-style answer on FastCGI stdout. No decisions are made here.
#pragma once

#include <fcgiapp.h>

#include "http/request.h"
#include "http/response.h"

namespace tessera::fcgi {

// The request body, read from FastCGI stdin as the handler asks for it.
class FcgiBody final : public http::BodyReader {
 public:
  explicit FcgiBody(FCGX_Stream* in) : in_(in) {}
  std::ptrdiff_t Read(char* buffer, std::size_t size) override;

 private:
  FCGX_Stream* in_;
};

// Fills `request` from the parameters of `raw`. Returns false when the parameters are malformed
// (bad Content-Length, too many or too large headers): the caller answers 400.
bool ToRequest(const FCGX_Request& raw, FcgiBody* body, http::Request* request);

// Writes `response`; without the body when `head` is true (the length is still announced).
void WriteResponse(FCGX_Request& raw, const http::Response& response, bool head);

}  // namespace tessera::fcgi
