// The baseline for the FastCGI benchmarks: the least a libfcgi responder can do (fixed JSON, N
// threads, same accept pattern as tessera-fcgi). Usage: trivial_fcgi SOCKET THREADS
#include <fcgiapp.h>
#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  FCGX_Init();
  int fd = FCGX_OpenSocket(argv[1], 128);
  if (fd < 0) return 1;
  chmod(argv[1], 0666);
  std::mutex accept_mutex;
  std::vector<std::thread> threads;
  for (int i = 0; i < std::atoi(argv[2]); ++i) {
    threads.emplace_back([&] {
      FCGX_Request r;
      FCGX_InitRequest(&r, fd, 0);
      static const char kAnswer[] =
          "Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
      for (;;) {
        int rc;
        {
          std::lock_guard lock(accept_mutex);
          rc = FCGX_Accept_r(&r);
        }
        if (rc < 0) break;
        FCGX_PutStr(kAnswer, sizeof kAnswer - 1, r.out);
        FCGX_Finish_r(&r);
      }
    });
  }
  for (auto& t : threads) t.join();
}
