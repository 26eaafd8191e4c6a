// See sock_diag.h. The dump runs in Napi::AsyncWorker::Execute() on a libuv
// thread into plain structs; JS values are built only in OnOK().
#include "sock_diag.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace nrdot {
namespace {

constexpr int kTcpListen = 10;  // TCP_LISTEN
constexpr int kTcpClose = 7;    // TCP_CLOSE: an unconnected UDP socket

class NetlinkFd {
 public:
  NetlinkFd() : fd_(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) {}
  ~NetlinkFd() {
    if (fd_ >= 0) close(fd_);
  }
  NetlinkFd(const NetlinkFd&) = delete;
  NetlinkFd& operator=(const NetlinkFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool SendRequest(int fd, void* req, size_t len) {
  sockaddr_nl nladdr{};
  nladdr.nl_family = AF_NETLINK;
  iovec iov{req, len};
  msghdr msg{};
  msg.msg_name = &nladdr;
  msg.msg_namelen = sizeof(nladdr);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  for (;;) {
    if (sendmsg(fd, &msg, 0) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

// Read the dump's replies until NLMSG_DONE; call `each` with every message.
template <typename F>
bool ReadDump(int fd, F each, int* err) {
  alignas(nlmsghdr) static thread_local char buf[1 << 16];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return false;
    }
    if (n == 0) return true;
    auto* h = reinterpret_cast<nlmsghdr*>(buf);
    int left = static_cast<int>(n);
    for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == NLMSG_DONE) return true;
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        *err = e->error < 0 ? -e->error : EIO;
        return false;
      }
      each(h);
    }
  }
}

bool DumpInet(int fd, uint8_t family, uint8_t protocol, uint32_t states, std::vector<DiagSocket>* out, int* err) {
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 r;
  } req{};
  req.nlh.nlmsg_len = sizeof(req);
  req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nlh.nlmsg_seq = 1;
  req.r.sdiag_family = family;
  req.r.sdiag_protocol = protocol;
  req.r.idiag_states = states;
  if (!SendRequest(fd, &req, sizeof(req))) {
    *err = errno;
    return false;
  }
  const uint8_t transport = protocol == IPPROTO_TCP ? 0 : 1;
  return ReadDump(
      fd,
      [&](nlmsghdr* h) {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) return;
        auto* m = static_cast<inet_diag_msg*>(NLMSG_DATA(h));
        // UDP: only unconnected sockets (no peer port)
        if (transport == 1 && m->id.idiag_dport != 0) return;
        DiagSocket s{};
        s.transport = transport;
        s.family = m->idiag_family;
        std::memcpy(s.addr, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
        s.port = ntohs(m->id.idiag_sport);
        s.inode = m->idiag_inode;
        s.uid = m->idiag_uid;
        out->push_back(std::move(s));
      },
      err);
}

bool DumpUnix(int fd, std::vector<DiagSocket>* out, int* err) {
  struct {
    nlmsghdr nlh;
    unix_diag_req r;
  } req{};
  req.nlh.nlmsg_len = sizeof(req);
  req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nlh.nlmsg_seq = 2;
  req.r.sdiag_family = AF_UNIX;
  req.r.udiag_states = (1u << kTcpListen) | (1u << kTcpClose);
  req.r.udiag_show = UDIAG_SHOW_NAME;
  if (!SendRequest(fd, &req, sizeof(req))) {
    *err = errno;
    return false;
  }
  return ReadDump(
      fd,
      [&](nlmsghdr* h) {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(unix_diag_msg))) return;
        auto* m = static_cast<unix_diag_msg*>(NLMSG_DATA(h));
        std::string name;
        int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
        for (auto* a = reinterpret_cast<rtattr*>(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
          if (a->rta_type != UNIX_DIAG_NAME) continue;
          const char* p = static_cast<const char*>(RTA_DATA(a));
          size_t n = RTA_PAYLOAD(a);
          if (n > 0 && p[0] == '\0') {
            name = "@" + std::string(p + 1, n - 1);
          } else {
            name.assign(p, strnlen(p, n));
          }
        }
        // the same rule as the /proc/net/unix reader: listening, or a datagram socket bound to a name
        bool listening = m->udiag_state == kTcpListen;
        bool bound_dgram = m->udiag_type == SOCK_DGRAM && m->udiag_state == kTcpClose;
        if (name.empty() || !(listening || bound_dgram)) return;
        DiagSocket s{};
        s.transport = 2;
        s.family = AF_UNIX;
        s.inode = m->udiag_ino;
        s.path = std::move(name);
        out->push_back(std::move(s));
      },
      err);
}

class ListenersWorker : public Napi::AsyncWorker {
 public:
  explicit ListenersWorker(Napi::Env env)
      : Napi::AsyncWorker(env, "nrdot:sock_diag"), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    int err = 0;
    std::string where;
    if (!DumpListeners(&out_, &err, &where)) SetError(where + ": " + std::strerror(err));
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Array arr = Napi::Array::New(env, out_.size());
    static const char* kTransport[] = {"tcp", "udp", "unix"};
    for (size_t i = 0; i < out_.size(); i++) {
      const DiagSocket& s = out_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("transport", kTransport[s.transport]);
      o.Set("inode", Napi::Number::New(env, s.inode));
      if (s.transport == 2) {
        o.Set("path", Napi::String::New(env, s.path));
      } else {
        char text[INET6_ADDRSTRLEN] = {0};
        inet_ntop(s.family, s.addr, text, sizeof(text));
        o.Set("family", Napi::Number::New(env, s.family == AF_INET ? 4 : 6));
        o.Set("address", Napi::String::New(env, text));
        o.Set("port", Napi::Number::New(env, s.port));
        o.Set("uid", Napi::Number::New(env, s.uid));
      }
      arr.Set(static_cast<uint32_t>(i), o);
    }
    deferred_.Resolve(arr);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<DiagSocket> out_;
};

}  // namespace

bool DumpListeners(std::vector<DiagSocket>* out, int* errno_out, std::string* where) {
  struct Q {
    uint8_t family;
    uint8_t protocol;
    uint32_t states;
    const char* name;
  };
  const Q qs[] = {
      {AF_INET, IPPROTO_TCP, 1u << kTcpListen, "tcp"},
      {AF_INET6, IPPROTO_TCP, 1u << kTcpListen, "tcp6"},
      {AF_INET, IPPROTO_UDP, 1u << kTcpClose, "udp"},
      {AF_INET6, IPPROTO_UDP, 1u << kTcpClose, "udp6"},
  };
  for (const Q& q : qs) {
    NetlinkFd fd;  // one socket per dump: a fresh sequence, nothing left over from an aborted read
    if (fd.get() < 0) {
      *errno_out = errno;
      *where = "socket(NETLINK_SOCK_DIAG)";
      return false;
    }
    if (!DumpInet(fd.get(), q.family, q.protocol, q.states, out, errno_out)) {
      // a kernel without IPv6 has no AF_INET6 handler: that table is simply empty
      if (q.family == AF_INET6 && (*errno_out == ENOENT || *errno_out == EAFNOSUPPORT)) continue;
      *where = std::string("sock_diag dump of ") + q.name;
      return false;
    }
  }
  NetlinkFd fd;
  if (fd.get() < 0 || !DumpUnix(fd.get(), out, errno_out)) {
    if (fd.get() < 0) *errno_out = errno;
    *where = "sock_diag dump of unix sockets";
    return false;
  }
  return true;
}

Napi::Value ListeningSockets(const Napi::CallbackInfo& info) {
  auto* w = new ListenersWorker(info.Env());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace nrdot
