#include "server/peer_socket.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace seek::server {
namespace {

// A loopback TCP connection: `client` connected to `server` (the accepted end), as an HTTP server sees it.
struct Loopback {
  int listener = -1, client = -1, server = -1;
  std::string client_addr, server_addr;
  int client_port = 0, server_port = 0;

  explicit Loopback(int family) {
    listener = socket(family, SOCK_STREAM, 0);
    sockaddr_storage a{};
    socklen_t len;
    if (family == AF_INET) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&a);
      v4->sin_family = AF_INET;
      v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *v4;
    } else {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&a);
      v6->sin6_family = AF_INET6;
      v6->sin6_addr = in6addr_loopback;
      len = sizeof *v6;
    }
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(listener, 4) != 0)
      return;
    socklen_t got = sizeof a;
    getsockname(listener, reinterpret_cast<sockaddr*>(&a), &got);
    client = socket(family, SOCK_STREAM, 0);
    if (connect(client, reinterpret_cast<sockaddr*>(&a), got) != 0) return;
    server = accept(listener, nullptr, nullptr);
    Describe(client, &client_addr, &client_port);
    Describe(listener, &server_addr, &server_port);
  }
  ~Loopback() {
    for (int fd : {listener, client, server})
      if (fd >= 0) close(fd);
  }
  bool ok() const { return server >= 0; }

  static void Describe(int fd, std::string* host, int* port) {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    char buf[INET6_ADDRSTRLEN] = {};
    if (a.ss_family == AF_INET) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&a);
      inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
      *port = ntohs(v4->sin_port);
    } else {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&a);
      inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
      *port = ntohs(v6->sin6_port);
    }
    *host = buf;
  }
};

// Polls Closed() for up to 2 s (the FIN or RST reaches the socket asynchronously, though on loopback at once).
bool ClosedSoon(PeerConnection& p) {
  for (int i = 0; i < 200; ++i) {
    if (p.Closed()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class PeerSocketTest : public ::testing::TestWithParam<int> {};

TEST_P(PeerSocketTest, FindsTheAcceptedSocketAndSeesTheHangUp) {
  Loopback c(GetParam());
  if (!c.ok()) GTEST_SKIP() << "no loopback for this address family";
  PeerConnection p(c.client_addr, c.client_port, c.server_addr, c.server_port);
  EXPECT_EQ(p.fd(), c.server);  // not the client end, not the listener
  EXPECT_FALSE(p.Closed());
  // A pipelined byte waiting to be read is not a hang-up, and peeking does not consume it.
  ASSERT_EQ(send(c.client, "x", 1, 0), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(p.Closed());
  char ch = 0;
  ASSERT_EQ(recv(c.server, &ch, 1, 0), 1);
  EXPECT_EQ(ch, 'x');
  EXPECT_FALSE(p.Closed());
  close(c.client);
  c.client = -1;
  EXPECT_TRUE(ClosedSoon(p));
}

TEST_P(PeerSocketTest, ResetConnectionIsClosed) {
  Loopback c(GetParam());
  if (!c.ok()) GTEST_SKIP() << "no loopback for this address family";
  linger l{1, 0};  // close with RST instead of FIN
  setsockopt(c.client, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  PeerConnection p(c.client_addr, c.client_port, c.server_addr, c.server_port);
  EXPECT_FALSE(p.Closed());
  close(c.client);
  c.client = -1;
  EXPECT_TRUE(ClosedSoon(p));
}

std::string FamilyName(const ::testing::TestParamInfo<int>& family) {
  return family.param == AF_INET ? "ipv4" : "ipv6";
}

INSTANTIATE_TEST_SUITE_P(Families, PeerSocketTest, ::testing::Values(AF_INET, AF_INET6), FamilyName);

TEST(PeerSocket, UnknownConnectionIsNeverClosed) {
  // No such socket: the request runs to its end rather than being cancelled by mistake.
  PeerConnection p("127.0.0.1", 1, "127.0.0.1", 2);
  EXPECT_EQ(p.fd(), -1);
  EXPECT_FALSE(p.Closed());
  PeerConnection q("", -1, "", -1);  // httplib did not report the addresses
  EXPECT_EQ(q.fd(), -1);
  EXPECT_FALSE(q.Closed());
}

}  // namespace
}  // namespace seek::server
