// Listening sockets over netlink sock_diag (NETLINK_SOCK_DIAG): TCP in
// LISTEN and unconnected UDP (IPv4 and IPv6), unix sockets that listen or
// are bound datagram sockets. The kernel filters by state, so only the
// listeners cross to user space, however many connections the host holds
// (the /proc/net text tables print every socket). Service discovery
// (src/discovery/signals/sock-diag.ts) uses it on the live host; the
// /proc/net parser stays the fallback and the only reader under --root.
#ifndef NRDOT_NATIVE_SOCK_DIAG_H_
#define NRDOT_NATIVE_SOCK_DIAG_H_

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nrdot {

struct DiagSocket {
  uint8_t transport;  // 0 tcp, 1 udp, 2 unix
  uint8_t family;     // AF_INET, AF_INET6, AF_UNIX
  uint8_t addr[16];   // network order; 4 bytes for AF_INET
  uint16_t port;      // host order
  uint32_t inode;
  uint32_t uid;
  std::string path;   // unix: the bound name ('@' + name for the abstract namespace)
};

// Dump the listeners; false (and errno_out) when netlink fails.
bool DumpListeners(std::vector<DiagSocket>* out, int* errno_out, std::string* where);

// listeningSockets(): Promise<Array<{transport, family, address, port, inode, uid, path}>>
Napi::Value ListeningSockets(const Napi::CallbackInfo& info);

}  // namespace nrdot

#endif  // NRDOT_NATIVE_SOCK_DIAG_H_
