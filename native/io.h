// Small POSIX helpers shared by the scanner's files (scanner.cc,
// scanner_files.cc): getdents64, whole-file reads, errno classes.
#ifndef NRDOT_NATIVE_IO_H_
#define NRDOT_NATIVE_IO_H_

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nrdot {

struct Dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

inline long GetDents(int fd, char* buf, size_t len) { return syscall(SYS_getdents64, fd, buf, len); }

inline bool IsDenied(int err) { return err == EACCES || err == EPERM; }
inline bool IsGone(int err) { return err == ENOENT || err == ESRCH; }

// pread from offset 0 to the end: a short read is the end on procfs and on
// regular files. Returns bytes or -errno.
inline ssize_t PreadAll(int fd, std::vector<char>* buf) {
  size_t total = 0;
  for (;;) {
    ssize_t n = pread(fd, buf->data() + total, buf->size() - total, static_cast<off_t>(total));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    total += static_cast<size_t>(n);
    if (total < buf->size() || n == 0) return static_cast<ssize_t>(total);
    buf->resize(buf->size() * 2);
  }
}

// read() to EOF, for files that cannot be pread (pipes): -errno on error.
inline ssize_t ReadToEof(int fd, std::vector<char>* buf) {
  size_t total = 0;
  for (;;) {
    if (total == buf->size()) buf->resize(buf->size() * 2);
    ssize_t n = read(fd, buf->data() + total, buf->size() - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) return static_cast<ssize_t>(total);
    total += static_cast<size_t>(n);
  }
}

}  // namespace nrdot

#endif  // NRDOT_NATIVE_IO_H_
