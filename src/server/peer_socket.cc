#include "server/peer_socket.h"

#include <dirent.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace seek::server {
namespace {

// Numeric host and port of a socket address; false for non-IP families.
bool NumericAddress(const sockaddr_storage& a, socklen_t len, std::string* host, int* port) {
  if (a.ss_family != AF_INET && a.ss_family != AF_INET6) return false;
  char h[NI_MAXHOST], s[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, h, sizeof h, s, sizeof s,
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return false;
  *host = h;
  *port = std::atoi(s);
  return true;
}

bool Matches(int fd, const std::string& remote_addr, int remote_port, const std::string& local_addr,
             int local_port) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  std::string host;
  int port = 0;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return false;  // ENOTSOCK, ENOTCONN, ...
  if (!NumericAddress(a, len, &host, &port) || port != remote_port || host != remote_addr) return false;
  len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return false;
  if (!NumericAddress(a, len, &host, &port) || port != local_port) return false;
  return local_addr.empty() || host == local_addr;
}

}  // namespace

int FindConnectedSocket(const std::string& remote_addr, int remote_port, const std::string& local_addr,
                        int local_port) {
  if (remote_port <= 0 || local_port <= 0) return -1;
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int found = -1;
  const int own = dirfd(dir);
  while (const dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == own) continue;
    if (Matches(int(fd), remote_addr, remote_port, local_addr, local_port)) {
      found = int(fd);
      break;
    }
  }
  closedir(dir);
  return found;
}

int PeerConnection::fd() {
  if (fd_ == -2) fd_ = FindConnectedSocket(remote_addr_, remote_port_, local_addr_, local_port_);
  return fd_;
}

bool PeerConnection::Closed() {
  const int s = fd();
  if (s < 0) return false;
  char c;
  const ssize_t n = recv(s, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return false;  // bytes waiting (a pipelined request): the client is still there
  if (n == 0) return true;  // orderly close
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;  // ECONNRESET, EPIPE, ...
}

}  // namespace seek::server
