#include "backup/s3_init.h"

#include <curl/curl.h>

namespace tessera::backup {

bool InitS3Transport() { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

}  // namespace tessera::backup
