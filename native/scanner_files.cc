// The scanner's per-process file reads: `stat` on a kept fd or by path,
// `status`/`io`/`fd/` with optional kept fds, and `cgroup` once per
// identity, with the error semantics of the TypeScript reader
// (src/sources/procfs/files.ts).
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "fd_budget.h"
#include "io.h"
#include "scanner.h"

namespace nrdot {

void Scanner::CloseKept(int* fd) {
  if (*fd < 0) return;
  close(*fd);
  *fd = -1;
  kept_--;
  ReleaseFd();
}

void Scanner::DropFd(PidEntry* e) { CloseKept(&e->fd); }

void Scanner::DropAux(PidEntry* e) {
  for (int& fd : e->aux) CloseKept(&fd);
}

bool Scanner::DropIfStale(int* fd, ScanResult* out) {
  if (procfs_ || *fd < 0) return false;
  struct stat st;
  if (fstat(*fd, &st) == 0 && st.st_nlink > 0) return false;
  CloseKept(fd);
  out->reopened++;
  return true;
}

bool Scanner::KeepAux(int fd, int* keep) {
  if (keep == nullptr || (max_kept_ >= 0 && kept_ >= max_kept_) || !AcquireAuxFd()) return false;
  *keep = fd;
  kept_++;
  return true;
}

int Scanner::ReadStat(int rootfd, const char* name, PidEntry* e, size_t* len, ScanResult* out) {
  // A tree on another filesystem replaces files by rename: a kept fd would
  // read the old content forever. procfs needs no such check (a reaped
  // process answers ESRCH).
  DropIfStale(&e->fd, out);
  if (e->fd >= 0) {
    ssize_t n = PreadAll(e->fd, &buf_);
    if (n >= 0) {
      *len = static_cast<size_t>(n);
      return 0;
    }
    // ESRCH: the process was reaped (its pid may be someone else's now);
    // ESPIPE: not a seekable file. Either way, open by path again.
    if (-n == ESPIPE) e->no_keep = true;
    DropFd(e);
    out->reopened++;
  }
  size_t k = strlen(name);
  memcpy(path_, name, k);
  strcpy(path_ + k, "stat");
  int fd = openat(rootfd, path_, O_RDONLY | O_CLOEXEC);
  path_[k] = '\0';
  if (fd < 0) {
    int err = errno;
    if (err == EMFILE || err == ENFILE) ShrinkFdBudget();
    return err;
  }
  out->opened++;
  ssize_t n;
  if (e->no_keep) {
    n = ReadToEof(fd, &buf_);
  } else {
    n = PreadAll(fd, &buf_);
    if (n == -ESPIPE) {
      e->no_keep = true;
      n = ReadToEof(fd, &buf_);
    }
  }
  bool keep = n >= 0 && !e->no_keep && (max_kept_ < 0 || kept_ < max_kept_) && AcquireFd();
  if (keep) {
    e->fd = fd;
    kept_++;
  } else {
    close(fd);
  }
  if (n < 0) return static_cast<int>(-n);
  *len = static_cast<size_t>(n);
  return 0;
}

Scanner::Read Scanner::FileError(int rootfd, const char* name, int err, ScanResult* out) {
  if (IsDenied(err)) {
    out->denied++;
    return Read::kUnknown;
  }
  if (err == ENOENT) {
    // Only the file is missing (e.g. no io accounting): unknown. The whole
    // process directory gone: vanished.
    char p[64];
    size_t k = strlen(name);
    memcpy(p, name, k);
    strcpy(p + k, "stat");
    if (faccessat(rootfd, p, F_OK, 0) == 0) return Read::kUnknown;
  }
  if (IsGone(err))
    out->vanished++;
  else
    out->malformed++;
  return Read::kSkip;
}

Scanner::Read Scanner::ReadOther(int rootfd, const char* name, const char* file, int* keep, size_t* len,
                                 ScanResult* out) {
  if (keep != nullptr && *keep >= 0 && !DropIfStale(keep, out)) {
    ssize_t n = PreadAll(*keep, &text_);
    if (n >= 0) {
      *len = static_cast<size_t>(n);
      return Read::kOk;
    }
    CloseKept(keep);  // reaped, or not seekable: by path again
    out->reopened++;
  }
  size_t k = strlen(name);
  memcpy(path_, name, k);
  strcpy(path_ + k, file);
  int fd = openat(rootfd, path_, O_RDONLY | O_CLOEXEC);
  path_[k] = '\0';
  *len = 0;
  if (fd < 0) return FileError(rootfd, name, errno, out);
  ssize_t n = PreadAll(fd, &text_);
  bool seekable = n != -ESPIPE;
  if (!seekable) n = ReadToEof(fd, &text_);
  if (n < 0) {
    close(fd);
    return FileError(rootfd, name, static_cast<int>(-n), out);
  }
  *len = static_cast<size_t>(n);
  if (!seekable || !KeepAux(fd, keep)) close(fd);
  return Read::kOk;
}

Scanner::Read Scanner::CountFds(int rootfd, const char* name, int* keep, int32_t* count, ScanResult* out) {
  *count = -1;
  int fd = -1;
  bool kept = false;
  if (keep != nullptr && *keep >= 0 && !DropIfStale(keep, out)) {
    if (lseek(*keep, 0, SEEK_SET) == 0) {
      fd = *keep;
      kept = true;
    } else {
      CloseKept(keep);
      out->reopened++;
    }
  }
  for (;;) {
    if (fd < 0) {
      size_t k = strlen(name);
      memcpy(path_, name, k);
      strcpy(path_ + k, "fd");
      fd = openat(rootfd, path_, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      path_[k] = '\0';
      if (fd < 0) return FileError(rootfd, name, errno, out);
    }
    int32_t c = 0;
    int err = 0;
    std::vector<char>& b = buf_;
    for (;;) {
      long n = GetDents(fd, b.data(), b.size());
      if (n < 0) {
        err = errno;
        break;
      }
      if (n == 0) break;
      for (long off = 0; off < n;) {
        const Dirent64* d = reinterpret_cast<const Dirent64*>(b.data() + off);
        off += d->d_reclen;
        const char* s = d->d_name;
        if (s[0] == '.' && (s[1] == '\0' || (s[1] == '.' && s[2] == '\0'))) continue;
        c++;
      }
    }
    if (err != 0 && kept) {
      // the kept directory belongs to a reaped process: by path again
      CloseKept(keep);
      out->reopened++;
      fd = -1;
      kept = false;
      continue;
    }
    if (!kept && (err != 0 || !KeepAux(fd, keep))) close(fd);
    if (err != 0) return FileError(rootfd, name, err, out);
    *count = c;
    return Read::kOk;
  }
}

Scanner::Read Scanner::ReadCgroup(int rootfd, const char* name, std::string* dst, ScanResult* out) {
  dst->clear();
  size_t k = strlen(name);
  memcpy(path_, name, k);
  strcpy(path_ + k, "cgroup");
  // O_NONBLOCK: a FIFO in a tree that is not procfs must not block the scan.
  int fd = openat(rootfd, path_, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  path_[k] = '\0';
  int err = 0;
  if (fd < 0) {
    err = errno;
  } else {
    struct stat st;
    if (fstat(fd, &st) != 0) {
      err = errno;
    } else if (!S_ISREG(st.st_mode)) {
      err = EINVAL;  // a directory, a FIFO: not a cgroup file
    } else {
      ssize_t n = ReadToEof(fd, &text_);
      if (n < 0) {
        err = static_cast<int>(-n);
      } else {
        size_t len = static_cast<size_t>(n);
        if (len > 0 && text_[len - 1] == '\n') len--;
        dst->assign(text_.data(), len);
      }
    }
    close(fd);
  }
  if (err == 0) return Read::kOk;
  // Unreadable while the process is still there: '' and counted. Gone: vanished.
  char p[64];
  memcpy(p, name, k);
  strcpy(p + k, "stat");
  if (faccessat(rootfd, p, F_OK, 0) != 0) {
    out->vanished++;
    return Read::kSkip;
  }
  if (IsDenied(err)) out->denied++;
  out->cgroup_unreadable++;
  return Read::kUnknown;
}

}  // namespace nrdot
