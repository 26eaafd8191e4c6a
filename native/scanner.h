// The /proc scanner core: plain C++ and POSIX, no N-API. One instance keeps
// the state of one JS scanner (identities seen, kept `stat` fds) and is only
// ever used by one thread at a time (the addon serialises scans).
#ifndef NRDOT_NATIVE_SCANNER_H_
#define NRDOT_NATIVE_SCANNER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "parse.h"
#include "pid_table.h"

namespace nrdot {

// Row flags, as in src/sources/batch.ts.
constexpr uint8_t kFlagNewIdentity = 1;
constexpr uint8_t kFlagKernelThread = 2;
constexpr uint8_t kFlagDetail = 4;

// Bounded discovery (src/sources/bounds.ts has the same rules for the
// TypeScript reader). Applied right after `stat` is parsed, before status,
// io, fd/ or cmdline are read. `keep` pids pass every bound.
struct ScanBounds {
  bool active = false;          // false: no bounds, no `excluded` counters
  int64_t max_processes = 0;    // 0: no cap; else the first N in pid order
  std::vector<std::string> exclude_exact;   // comm equal to one of these (UTF-8 bytes)
  std::vector<std::string> exclude_prefix;  // comm starting with one of these
  double min_cpu_percent = 0;   // of one core, since the previous bounded scan
  double min_rss_bytes = 0;
  double min_age_sec = 0;
  std::vector<int32_t> keep;    // sorted, unique
};

// Which files detail rows read (ScanOptions.files). A file that is off is
// neither opened nor kept for rows that are not fresh; fresh rows still read
// `status` once (its Uid names the owner), without keeping its fd.
struct ScanFiles {
  bool status = true;
  bool io = true;
  bool fds = true;
};

struct ScanRequest {
  // true: detail rows are every process. false: only the pids in
  // `detail_pids` and identities new in this scan.
  bool detail_all = true;
  std::vector<int32_t> detail_pids;
  ScanFiles files;
  // read <pid>/cgroup once per identity into fresh_cgroup
  bool cgroup = true;
  ScanBounds bounds;
};

// Processes left out by each bound (each counted once, by the first bound
// that excludes it: max_processes, name, rss, age, cpu).
struct ExcludedCounts {
  uint32_t max_processes = 0;
  uint32_t name = 0;
  uint32_t cpu = 0;
  uint32_t rss = 0;
  uint32_t age = 0;
};

// One scan's output: every column in one malloc'd slab (handed to JS as an
// external ArrayBuffer, no copy), strings only for fresh identities.
struct ScanResult {
  size_t capacity = 0;
  size_t count = 0;
  void* slab = nullptr;
  size_t slab_bytes = 0;
  // Float64 columns
  double* start_ticks = nullptr;
  double* utime_sec = nullptr;
  double* stime_sec = nullptr;
  double* iowait_sec = nullptr;
  double* rss_bytes = nullptr;
  double* vsize_bytes = nullptr;
  double* read_bytes = nullptr;
  double* write_bytes = nullptr;
  double* min_faults = nullptr;
  double* maj_faults = nullptr;
  double* vol_ctx = nullptr;
  double* invol_ctx = nullptr;
  // Int32 columns
  int32_t* pid = nullptr;
  int32_t* ppid = nullptr;
  int32_t* threads = nullptr;
  int32_t* fds = nullptr;
  int32_t* uid = nullptr;
  // Uint8 columns
  uint8_t* state = nullptr;
  uint8_t* flags = nullptr;

  std::vector<int32_t> fresh_rows;
  std::vector<std::string> fresh_name;
  std::vector<std::string> fresh_cmdline;
  std::vector<std::string> fresh_exe;
  std::vector<std::string> fresh_cgroup;  // one trailing newline removed; '' unreadable or not read

  uint32_t vanished = 0;
  uint32_t denied = 0;
  uint32_t malformed = 0;
  uint32_t cgroup_unreadable = 0;  // fresh rows whose cgroup could not be read while stat exists
  bool bounded = false;  // the request had bounds: `excluded` is meaningful
  ExcludedCounts excluded;

  // Host files, raw (parsed by the shared TypeScript parsers).
  bool has_host_stat = false, has_uptime = false, has_meminfo = false;
  std::string host_stat, uptime, meminfo;

  // The proc root could not be listed (errno), 0 when it could.
  int list_errno = 0;
  double scanned_at_ms = 0;

  // Diagnostics.
  uint32_t kept_fds = 0;     // this scanner's kept fds after the scan
  uint32_t opened = 0;       // stat files opened by path in this scan
  uint32_t reopened = 0;     // kept fds replaced (ESRCH, ESPIPE, replaced file)
  uint32_t detail_rows = 0;  // rows with status/io/fd read (as far as the mask enables them)
  double scan_ns = 0;        // time inside Scan(), on the pool thread

  ~ScanResult();
  bool Allocate(size_t capacity);
  // Ownership of the slab moves to the caller.
  void* ReleaseSlab();
};

class Scanner {
 public:
  // clk_tck and page_size come from the caller so both backends use the
  // same values; max_kept caps this instance's kept fds (-1: budget only).
  Scanner(std::string root, double clk_tck, double page_size, int64_t max_kept);
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  void Scan(const ScanRequest& req, ScanResult* out);
  // Close every kept fd and forget every identity.
  void Reset();
  bool is_procfs() const { return procfs_; }
  uint32_t kept_fds() const { return kept_; }

 private:
  enum class Read { kOk, kUnknown, kSkip };
  enum class Why { kNone, kName, kRss, kAge, kCpu };

  // Which bound (if any) leaves this process out; `uptime` is the tree's clock.
  Why Excluded(const ScanBounds& b, const StatFields& st, const PidEntry& e, double cpu_sec, double uptime) const;

  void ScanInner(const ScanRequest& req, ScanResult* out);

  bool ListPids(int rootfd, std::vector<int64_t>* pids, int* err);
  // <pid>/stat into buf_ (kept fd, or by path); 0 or an errno. `name` is "<pid>/".
  int ReadStat(int rootfd, const char* name, PidEntry* e, size_t* len, ScanResult* out);
  // A per-process file other than stat, with the reader's error semantics.
  // `keep`: the entry's kept fd for this file (nullptr: never keep).
  Read ReadOther(int rootfd, const char* name, const char* file, int* keep, size_t* len, ScanResult* out);
  Read CountFds(int rootfd, const char* name, int* keep, int32_t* count, ScanResult* out);
  // <pid>/cgroup into dst (one trailing newline removed). kUnknown ('' and
  // counted) when it cannot be read or is not a regular file while `stat`
  // exists; kSkip (vanished) when the process is gone.
  Read ReadCgroup(int rootfd, const char* name, std::string* dst, ScanResult* out);
  Read FileError(int rootfd, const char* name, int err, ScanResult* out);
  // Close a kept fd (stat or aux) and give it back to the budget.
  void CloseKept(int* fd);
  // Non-procfs trees replace files by rename: a kept fd whose file has no
  // links left is stale. Closes it and returns true.
  bool DropIfStale(int* fd, ScanResult* out);
  void DropFd(PidEntry* e);
  void DropAux(PidEntry* e);
  bool KeepAux(int fd, int* keep);

  std::string root_;
  double clk_tck_;
  double page_size_;
  int64_t max_kept_;
  bool procfs_ = false;
  uint32_t gen_ = 0;
  uint32_t kept_ = 0;
  PidTable table_;
  std::vector<char> buf_;
  std::vector<char> dents_;
  std::vector<char> text_;
  char path_[96];
};

}  // namespace nrdot

#endif  // NRDOT_NATIVE_SCANNER_H_
