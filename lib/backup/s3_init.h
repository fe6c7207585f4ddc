// libcurl's process-wide set-up, which the S3 client (backup/s3_client.h) needs and which is not
// thread-safe: curl_global_init may run only while no other thread uses libcurl or the things it
// initialises (OpenSSL among them). The S3 client does not call it itself, since its first client
// may be built by a SIGHUP reload that switches to S3 while request threads run. So each program
// calls InitS3Transport() once in main, before it starts a thread, like sodium_init().
#pragma once

namespace tessera::backup {

// Initialises libcurl for the process. Returns false when libcurl cannot be initialised. Call
// once, before any thread starts; not thread-safe.
[[nodiscard]] bool InitS3Transport();

}  // namespace tessera::backup
