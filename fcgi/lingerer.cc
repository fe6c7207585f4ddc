#include "fcgi/lingerer.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "log/log.h"

namespace tessera::fcgi {

Lingerer::Lingerer(std::chrono::milliseconds budget, std::size_t max_connections)
    : budget_(budget), max_connections_(max_connections) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    // Without it connections are closed at once (Take), which loses answers at worst.
    log::Warning(std::string("lingering close off: eventfd: ") + std::strerror(errno));
    return;
  }
  thread_ = std::thread([this] { Run(); });
}

Lingerer::~Lingerer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  for (const Entry& e : incoming_) close(e.fd);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void Lingerer::Wake() {
  if (wake_fd_ < 0) return;
  std::uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

void Lingerer::Take(int fd) {
  shutdown(fd, SHUT_WR);
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && thread_.joinable() && count_ < max_connections_) {
      int flags = fcntl(fd, F_GETFL);
      if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
      incoming_.push_back({fd, Clock::now() + budget_});
      ++count_;
      fd = -1;
    }
  }
  if (fd >= 0) {
    close(fd);
    return;
  }
  Wake();
}

std::size_t Lingerer::lingering() const {
  std::lock_guard lock(mutex_);
  return count_;
}

void Lingerer::Run() {
  std::vector<Entry> held;
  std::vector<pollfd> polled;
  char scratch[16 * 1024];
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      held.insert(held.end(), incoming_.begin(), incoming_.end());
      incoming_.clear();
    }
    auto now = Clock::now();
    int timeout_ms = -1;
    polled.assign(1, pollfd{wake_fd_, POLLIN, 0});
    for (const Entry& e : held) {
      polled.push_back(pollfd{e.fd, POLLIN, 0});
      auto left = std::chrono::ceil<std::chrono::milliseconds>(e.deadline - now).count();
      left = std::max<std::int64_t>(left, 0);
      timeout_ms =
          timeout_ms < 0 ? static_cast<int>(left) : std::min(timeout_ms, static_cast<int>(left));
    }
    int ready = poll(polled.data(), polled.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) {
      log::Error(std::string("lingering close: poll: ") + std::strerror(errno));
      break;
    }
    if (polled[0].revents != 0) {
      std::uint64_t drained;
      (void)!read(wake_fd_, &drained, sizeof drained);
    }
    now = Clock::now();
    std::size_t closed = 0;
    // polled[i + 1] is held[i]: both were built in the same order above.
    for (std::size_t i = 0; i < held.size(); ++i) {
      bool done = now >= held[i].deadline;
      if (!done && polled[i + 1].revents != 0) {
        for (;;) {
          ssize_t n = read(held[i].fd, scratch, sizeof scratch);
          if (n > 0) continue;
          // 0: the peer closed its side; an error other than "nothing more yet": gone.
          done = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
          break;
        }
      }
      if (done) {
        close(held[i].fd);
        held[i].fd = -1;
        ++closed;
      }
    }
    if (closed > 0) {
      std::erase_if(held, [](const Entry& e) { return e.fd < 0; });
      std::lock_guard lock(mutex_);
      count_ -= closed;
    }
  }
  for (const Entry& e : held) close(e.fd);
  std::lock_guard lock(mutex_);
  count_ -= held.size();
}

}  // namespace tessera::fcgi
