// Client hang-up detection for handlers that produce no output while they wait (non-streaming completions).
//
// A streaming response notices a departed client when a write fails. A non-streaming one writes nothing until
// the whole answer is ready, and cpp-httplib 0.11 (Debian 12) gives a handler neither the socket nor a
// "connection closed" query. So PeerConnection finds the accepted socket itself, once, by matching the
// request's addresses (remote and local address and port, unique among open sockets) against the process's
// sockets, and then asks the kernel without reading or writing: recv(MSG_PEEK | MSG_DONTWAIT) returning 0
// (FIN) or a reset error means the client is gone. Like nginx's client-abort check, a half-close by the client
// counts as a hang-up: HTTP clients do not half-close while they wait for a response.
//
// Only the HTTP thread serving the connection calls it, while its handler runs: httplib cannot close or reuse
// the descriptor meanwhile, so the descriptor found stays the connection's.
#pragma once
#include <string>
#include <utility>

namespace seek::server {

class PeerConnection {
 public:
  // Addresses as httplib reports them (numeric host strings, as getnameinfo(NI_NUMERICHOST) writes them).
  PeerConnection(std::string remote_addr, int remote_port, std::string local_addr, int local_port)
      : remote_addr_(std::move(remote_addr)), local_addr_(std::move(local_addr)),
        remote_port_(remote_port), local_port_(local_port) {}

  // True once the client has closed or reset the connection. False while it is open, and when the socket
  // cannot be found (then nothing is cancelled: the request simply runs to its end, as before).
  bool Closed();

  // The descriptor found (-1: none). Resolves on first use.
  int fd();

 private:
  std::string remote_addr_, local_addr_;
  int remote_port_, local_port_;
  int fd_ = -2;  // -2: not looked up yet
};

// The open socket of this process whose peer is remote_addr:remote_port and whose local end is
// local_addr:local_port (numeric strings), or -1.
int FindConnectedSocket(const std::string& remote_addr, int remote_port, const std::string& local_addr,
                        int local_port);

}  // namespace seek::server
