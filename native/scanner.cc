#include "scanner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include "fd_budget.h"
#include "io.h"
#include "parse.h"

namespace nrdot {
namespace {

constexpr long kProcSuperMagic = 0x9fa0;
constexpr size_t kReadBuf = 64 * 1024;
constexpr size_t kDentsBuf = 128 * 1024;

// "<pid>/<file>" into out; returns the length of "<pid>/".
size_t FormatPid(int64_t pid, char* out) {
  char tmp[24];
  size_t n = 0;
  uint64_t v = static_cast<uint64_t>(pid);
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  out[n] = '/';
  return n + 1;
}

// Read a whole small file into a string: 0 or an errno.
int ReadFileAt(int dirfd, const char* rel, std::string* dst) {
  int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  dst->clear();
  size_t total = 0;
  int err = 0;
  for (;;) {
    if (dst->size() - total < 4096) dst->resize(total + (total < 4096 ? 4096 : total));
    ssize_t n = read(fd, &(*dst)[total], dst->size() - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  close(fd);
  dst->resize(total);
  return err;
}

double MonoNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double WallMs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::floor(static_cast<double>(ts.tv_sec) * 1000.0 + static_cast<double>(ts.tv_nsec) / 1e6);
}

bool IsJsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// parseUptime() of parse.ts for decimal text: the first field of `uptime`
// (Number() of the text before the first space, or of the trimmed text when
// there is none). NaN when it is not a non-negative decimal number; the
// TypeScript side then refuses the tree anyway.
double ParseUptime(const std::string& t) {
  size_t sp = t.find(' ');
  size_t b = 0, e = (sp != std::string::npos && sp > 0) ? sp : t.size();
  while (b < e && IsJsSpace(t[b])) b++;
  while (e > b && IsJsSpace(t[e - 1])) e--;
  if (b == e) return 0;  // Number('') is 0
  std::string num(t, b, e - b);
  size_t i = 0;
  if (num[i] == '+') i++;
  size_t int_digits = 0, frac_digits = 0;
  while (i < num.size() && num[i] >= '0' && num[i] <= '9') i++, int_digits++;
  if (i < num.size() && num[i] == '.') {
    i++;
    while (i < num.size() && num[i] >= '0' && num[i] <= '9') i++, frac_digits++;
  }
  if (int_digits + frac_digits == 0) return std::numeric_limits<double>::quiet_NaN();
  if (i < num.size() && (num[i] == 'e' || num[i] == 'E')) {
    i++;
    if (i < num.size() && (num[i] == '+' || num[i] == '-')) i++;
    size_t exp_digits = 0;
    while (i < num.size() && num[i] >= '0' && num[i] <= '9') i++, exp_digits++;
    if (exp_digits == 0) return std::numeric_limits<double>::quiet_NaN();
  }
  if (i != num.size()) return std::numeric_limits<double>::quiet_NaN();
  double v = strtod(num.c_str(), nullptr);
  return std::isfinite(v) ? v : std::numeric_limits<double>::quiet_NaN();
}

bool SameBytes(const std::string& a, const char* p, size_t n) { return a.size() == n && memcmp(a.data(), p, n) == 0; }

}  // namespace

ScanResult::~ScanResult() { free(slab); }

bool ScanResult::Allocate(size_t cap) {
  capacity = cap;
  slab_bytes = cap * (12 * sizeof(double) + 5 * sizeof(int32_t) + 2) + 8;
  slab = calloc(1, slab_bytes);
  if (slab == nullptr) return false;
  double* d = static_cast<double*>(slab);
  double** dcols[] = {&start_ticks, &utime_sec, &stime_sec,  &iowait_sec, &rss_bytes,  &vsize_bytes,
                      &read_bytes,  &write_bytes, &min_faults, &maj_faults, &vol_ctx, &invol_ctx};
  for (double** c : dcols) {
    *c = d;
    d += cap;
  }
  int32_t* i = reinterpret_cast<int32_t*>(d);
  int32_t** icols[] = {&pid, &ppid, &threads, &fds, &uid};
  for (int32_t** c : icols) {
    *c = i;
    i += cap;
  }
  state = reinterpret_cast<uint8_t*>(i);
  flags = state + cap;
  return true;
}

void* ScanResult::ReleaseSlab() {
  void* s = slab;
  slab = nullptr;
  return s;
}

Scanner::Scanner(std::string root, double clk_tck, double page_size, int64_t max_kept)
    : root_(std::move(root)), clk_tck_(clk_tck), page_size_(page_size), max_kept_(max_kept) {
  struct statfs sfs;
  procfs_ = statfs(root_.c_str(), &sfs) == 0 && static_cast<long>(sfs.f_type) == kProcSuperMagic;
  buf_.resize(kReadBuf);
  text_.resize(kReadBuf);
  dents_.resize(kDentsBuf);
}

Scanner::~Scanner() { Reset(); }

void Scanner::Reset() {
  for (PidEntry& e : table_.entries()) {
    if (e.pid == 0) continue;
    DropFd(&e);
    DropAux(&e);
  }
  table_ = PidTable();
}

bool Scanner::ListPids(int rootfd, std::vector<int64_t>* pids, int* err) {
  for (;;) {
    long n = GetDents(rootfd, dents_.data(), dents_.size());
    if (n < 0) {
      *err = errno;
      return false;
    }
    if (n == 0) return true;
    for (long off = 0; off < n;) {
      const Dirent64* d = reinterpret_cast<const Dirent64*>(dents_.data() + off);
      off += d->d_reclen;
      const char* p = d->d_name;
      // /^[1-9][0-9]*$/, like the TypeScript reader
      if (*p < '1' || *p > '9') continue;
      int64_t v = 0;
      int digits = 0;
      while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (++digits > 18) break;
      }
      if (*p != '\0') continue;
      pids->push_back(v);
    }
  }
}

Scanner::Why Scanner::Excluded(const ScanBounds& b, const StatFields& st, const PidEntry& e, double cpu_sec,
                               double uptime) const {
  if (!b.exclude_exact.empty() || !b.exclude_prefix.empty()) {
    for (const std::string& x : b.exclude_exact)
      if (SameBytes(x, st.comm, st.comm_len)) return Why::kName;
    for (const std::string& x : b.exclude_prefix)
      if (x.size() <= st.comm_len && memcmp(x.data(), st.comm, x.size()) == 0) return Why::kName;
  }
  if (b.min_rss_bytes > 0 && st.rss * page_size_ < b.min_rss_bytes) return Why::kRss;
  if (b.min_age_sec > 0 && uptime - st.starttime / clk_tck_ < b.min_age_sec) return Why::kAge;
  if (b.min_cpu_percent > 0) {
    // The engine's rule (src/state/counters.ts): the rate since the previous
    // observation of this identity, else (first sight, or the tree's clock
    // did not move) the lifetime average.
    double cores;
    double dt = uptime - e.prev_uptime;
    if (e.has_prev && e.prev_start == st.starttime && dt > 0) {
      double d = cpu_sec - e.prev_cpu;
      cores = d > 0 ? d / dt : 0;
    } else {
      double age = uptime - st.starttime / clk_tck_;
      cores = age > 0 ? cpu_sec / age : 0;
    }
    if (cores * 100 < b.min_cpu_percent) return Why::kCpu;
  }
  return Why::kNone;
}

void Scanner::Scan(const ScanRequest& req, ScanResult* out) {
  double t0 = MonoNs();
  ScanInner(req, out);
  out->scan_ns = MonoNs() - t0;
}

void Scanner::ScanInner(const ScanRequest& req, ScanResult* out) {
  gen_++;
  int rootfd = open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) {
    out->list_errno = errno;
    out->Allocate(0);
    out->scanned_at_ms = WallMs();
    return;
  }
  // Host files first, like the TypeScript reader.
  out->has_host_stat = ReadFileAt(rootfd, "stat", &out->host_stat) == 0;
  out->has_uptime = ReadFileAt(rootfd, "uptime", &out->uptime) == 0;
  out->has_meminfo = ReadFileAt(rootfd, "meminfo", &out->meminfo) == 0;

  std::vector<int64_t> pids;
  pids.reserve(table_.size() + 64);
  int err = 0;
  if (!ListPids(rootfd, &pids, &err)) out->list_errno = err;
  if (!out->Allocate(pids.size())) {
    out->list_errno = ENOMEM;
    out->Allocate(0);
    close(rootfd);
    return;
  }
  if (!req.detail_all) {
    for (int32_t p : req.detail_pids) {
      PidEntry* e = table_.Find(p);
      if (e != nullptr) e->detail = gen_;
    }
  }

  // Bounded discovery. max_processes keeps the first N processes in pid
  // order that pass the other bounds, so pids are scanned in order (procfs
  // lists them sorted already); listed `keep` pids have their rows reserved.
  const ScanBounds& bd = req.bounds;
  out->bounded = bd.active;
  bool capped = bd.active && bd.max_processes > 0;
  size_t free_budget = 0;  // rows for pids not in `keep`
  if (capped) {
    if (!std::is_sorted(pids.begin(), pids.end())) std::sort(pids.begin(), pids.end());
    size_t listed_keep = 0;
    for (int32_t k : bd.keep)
      if (std::binary_search(pids.begin(), pids.end(), static_cast<int64_t>(k))) listed_keep++;
    size_t cap = static_cast<size_t>(bd.max_processes);
    free_budget = cap > listed_keep ? cap - listed_keep : 0;
  }
  double uptime = bd.active && out->has_uptime ? ParseUptime(out->uptime) : std::nan("");
  size_t free_rows = 0;

  size_t n = 0;
  std::string cmdline, exe, comm, cgroup;
  std::vector<char> link(256);
  for (int64_t pid : pids) {
    char name[32];  // "<pid>/"
    name[FormatPid(pid, name)] = '\0';

    PidEntry* e = table_.FindOrInsert(pid);
    e->listed = gen_;
    bool keep = bd.active && !bd.keep.empty() &&
                pid <= std::numeric_limits<int32_t>::max() &&
                std::binary_search(bd.keep.begin(), bd.keep.end(), static_cast<int32_t>(pid));
    if (capped && !keep && free_rows >= free_budget) {
      // Over the cap: not even `stat` is read; its fds go back to the budget.
      out->excluded.max_processes++;
      DropFd(e);
      DropAux(e);
      continue;
    }
    size_t len = 0;
    int serr = ReadStat(rootfd, name, e, &len, out);
    if (serr != 0) {
      if (IsGone(serr))
        out->vanished++;
      else if (IsDenied(serr))
        out->denied++;
      else
        out->malformed++;
      continue;
    }
    if (len >= buf_.size()) buf_.resize(len + 1);
    buf_[len] = '\0';  // the parser's sentinel
    StatFields st;
    if (!ParseStat(buf_.data(), len, &st)) {
      out->malformed++;
      continue;
    }
    if (bd.active) {
      double cpu_sec = st.utime / clk_tck_ + st.stime / clk_tck_;
      Why why = keep ? Why::kNone : Excluded(bd, st, *e, cpu_sec, uptime);
      // Every parsed `stat` of a bounded scan is the base of the next CPU rate.
      e->has_prev = true;
      e->prev_start = st.starttime;
      e->prev_cpu = cpu_sec;
      e->prev_uptime = uptime;
      if (why != Why::kNone) {
        switch (why) {
          case Why::kName: out->excluded.name++; break;
          case Why::kRss: out->excluded.rss++; break;
          case Why::kAge: out->excluded.age++; break;
          default: out->excluded.cpu++; break;
        }
        DropAux(e);  // not a row: its status/io/fd fds go back to the budget
        continue;
      }
    }
    bool fresh = !e->known || e->start != st.starttime;
    bool detail = req.detail_all || fresh || e->detail == gen_;
    if (fresh) {
      comm.assign(st.comm, st.comm_len);
      DropAux(e);  // fds of an earlier process with this pid
    }

    double uid = -1, vol = -1, invol = -1, rb = -1, wb = -1;
    int32_t fds = -1;
    if (detail) {
      const ScanFiles& mask = req.files;
      size_t tl = 0;
      Read r;
      // A fresh identity reads `status` whatever the mask (its Uid names the
      // owner), but keeps its fd only when the mask reads it every scan.
      if (mask.status || fresh) {
        r = ReadOther(rootfd, name, "status", mask.status ? &e->aux[0] : nullptr, &tl, out);
        if (r == Read::kSkip) continue;
        if (r == Read::kOk) {
          uid = NumberAfter(text_.data(), tl, "\nUid:", 5);
          vol = NumberAfter(text_.data(), tl, "\nvoluntary_ctxt_switches:", 25);
          invol = NumberAfter(text_.data(), tl, "\nnonvoluntary_ctxt_switches:", 28);
        }
      }
      // A file the mask turns off is not read: its kept fd goes back to the budget.
      if (!mask.status) CloseKept(&e->aux[0]);
      if (mask.io) {
        r = ReadOther(rootfd, name, "io", &e->aux[1], &tl, out);
        if (r == Read::kSkip) continue;
        if (r == Read::kOk) {
          rb = NumberAfterLineStart(text_.data(), tl, "\nread_bytes:", 12);
          wb = NumberAfterLineStart(text_.data(), tl, "\nwrite_bytes:", 13);
        }
      } else {
        CloseKept(&e->aux[1]);
      }
      if (mask.fds) {
        r = CountFds(rootfd, name, &e->aux[2], &fds, out);
        if (r == Read::kSkip) continue;
      } else {
        CloseKept(&e->aux[2]);
      }
      out->detail_rows++;
    } else {
      DropAux(e);  // no longer detailed: give its fds back to the budget
    }

    uint8_t flags = detail ? kFlagDetail : 0;
    if (fresh) {
      size_t cl = 0;
      Read r = ReadOther(rootfd, name, "cmdline", nullptr, &cl, out);
      if (r == Read::kSkip) continue;
      cmdline.assign(text_.data(), cl);
      JoinCmdline(&cmdline);
      exe.clear();
      size_t k = strlen(name);
      memcpy(path_, name, k);
      strcpy(path_ + k, "exe");
      for (;;) {
        ssize_t m = readlinkat(rootfd, path_, link.data(), link.size());
        if (m < 0) {
          if (IsDenied(errno)) out->denied++;
          break;
        }
        if (static_cast<size_t>(m) < link.size()) {
          exe.assign(link.data(), static_cast<size_t>(m));
          break;
        }
        link.resize(link.size() * 2);
      }
      path_[k] = '\0';
      if (req.cgroup && ReadCgroup(rootfd, name, &cgroup, out) == Read::kSkip) continue;
      if (!req.cgroup) cgroup.clear();
      bool kernel = (ToInt32(st.flags) & kPfKthread) != 0;
      e->known = true;
      e->start = st.starttime;
      e->kernel = kernel;
      e->seen = gen_;
      out->fresh_rows.push_back(static_cast<int32_t>(n));
      out->fresh_name.push_back(comm);
      out->fresh_cmdline.push_back(cmdline);
      out->fresh_exe.push_back(exe);
      out->fresh_cgroup.push_back(cgroup);
      flags |= kFlagNewIdentity;
      if (kernel) flags |= kFlagKernelThread;
    } else {
      e->seen = gen_;
      if (e->kernel) flags |= kFlagKernelThread;
    }

    out->pid[n] = ToInt32(static_cast<double>(pid));
    out->ppid[n] = ToInt32(st.ppid);
    out->start_ticks[n] = st.starttime;
    out->utime_sec[n] = st.utime / clk_tck_;
    out->stime_sec[n] = st.stime / clk_tck_;
    out->iowait_sec[n] = st.blkio / clk_tck_;
    out->rss_bytes[n] = ExactCount(st.rss * page_size_);
    out->vsize_bytes[n] = ExactCount(st.vsize);
    out->threads[n] = ToInt32(st.threads);
    out->state[n] = st.state;
    out->min_faults[n] = ExactCount(st.minflt);
    out->maj_faults[n] = ExactCount(st.majflt);
    out->uid[n] = ToInt32(uid);
    out->vol_ctx[n] = ExactCount(vol);
    out->invol_ctx[n] = ExactCount(invol);
    out->read_bytes[n] = ExactCount(rb);
    out->write_bytes[n] = ExactCount(wb);
    out->fds[n] = fds;
    out->flags[n] = flags;
    n++;
    if (!keep) free_rows++;
  }
  close(rootfd);

  // Rows past the count hold what allocBatch() puts there.
  for (size_t i = n; i < out->capacity; i++) {
    out->fds[i] = out->uid[i] = -1;
    out->read_bytes[i] = out->write_bytes[i] = out->vol_ctx[i] = out->invol_ctx[i] = -1;
  }
  out->count = n;

  // Forget identities not read completely in this scan; close the fds of
  // processes that are no longer listed.
  std::vector<int64_t> gone;
  for (PidEntry& e : table_.entries()) {
    if (e.pid == 0) continue;
    if (e.listed != gen_) {
      DropFd(&e);
      DropAux(&e);
      gone.push_back(e.pid);
    } else if (e.seen != gen_) {
      e.known = false;
    }
  }
  for (int64_t pid : gone) table_.Erase(pid);
  out->kept_fds = kept_;
  out->scanned_at_ms = WallMs();
}

}  // namespace nrdot
