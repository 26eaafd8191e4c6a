/*
 * The floor for a /proc scan: a minimal C loop that reads the same files the
 * same way the native scanner does, with no parsing and no bookkeeping beyond
 * a pid -> fd table. Compiled and run by bench/scan.bench.ts.
 *
 *   scanfloor ROOT MODE ITERATIONS [FSTAT]
 *
 * MODE "stat": getdents64 over ROOT, then pread(fd, buf, n, 0) on a kept fd of
 *              <pid>/stat (opened on first sight, within the fd budget; beyond
 *              it open/read/close).
 * MODE "full": the same, plus <pid>/status and <pid>/io (pread on kept fds)
 *              and the entries of <pid>/fd (getdents64 on a kept directory
 *              fd after lseek 0); these extra fds are kept while half the
 *              budget is free, as the native scanner does.
 * FSTAT = 1 adds an fstat() per kept fd (what a scanner must do on a tree that
 * is not procfs, where files are replaced by rename).
 *
 * Prints one line per iteration: "<processes> <nanoseconds>"; the first
 * iteration opens the fds, later ones are the steady state.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DENTS_BUF (128 * 1024)

static char dents[DENTS_BUF];
static char fdents[32 * 1024];
static char buf[64 * 1024];
/* by pid, -1 = none: stat, status, io, fd/ */
static int *fd_of, *fd_status, *fd_io, *fd_dir;
static long fd_cap;
static long kept, budget;

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static int *grow(int *a, long from, long to) {
  a = realloc(a, to * sizeof(int));
  for (long i = from; i < to; i++) a[i] = -1;
  return a;
}

static int *slot(long pid) {
  if (pid >= fd_cap) {
    long n = fd_cap ? fd_cap : 1024;
    while (n <= pid) n *= 2;
    fd_of = grow(fd_of, fd_cap, n);
    fd_status = grow(fd_status, fd_cap, n);
    fd_io = grow(fd_io, fd_cap, n);
    fd_dir = grow(fd_dir, fd_cap, n);
    fd_cap = n;
  }
  return &fd_of[pid];
}

static int stale(int fd, int check) {
  struct stat st;
  return check && (fstat(fd, &st) != 0 || st.st_nlink == 0);
}

static void drop(int *fdp) {
  close(*fdp);
  *fdp = -1;
  kept--;
}

static int keep_aux(void) { return (kept + 1) * 2 <= budget; }

static long read_small(int dirfd, const char *rel, int *fdp, int check) {
  if (*fdp >= 0 && stale(*fdp, check)) drop(fdp);
  if (*fdp >= 0) {
    long n = pread(*fdp, buf, sizeof buf, 0);
    if (n >= 0) return n;
    drop(fdp);
  }
  int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  long n = pread(fd, buf, sizeof buf, 0);
  if (n >= 0 && keep_aux()) {
    *fdp = fd;
    kept++;
  } else {
    close(fd);
  }
  return n;
}

static long count_dir(int dirfd, const char *rel, int *fdp, int check) {
  if (*fdp >= 0 && (stale(*fdp, check) || lseek(*fdp, 0, SEEK_SET) != 0)) drop(fdp);
  int fd = *fdp;
  if (fd < 0) {
    fd = openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
  }
  long count = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, fdents, sizeof fdents);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      unsigned short reclen = *(unsigned short *)(fdents + off + 16);
      count++;
      off += reclen;
    }
  }
  if (*fdp < 0) {
    if (keep_aux()) {
      *fdp = fd;
      kept++;
    } else {
      close(fd);
    }
  }
  return count - 2;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: scanfloor ROOT stat|full ITERATIONS [FSTAT]\n");
    return 2;
  }
  const char *root = argv[1];
  int full = strcmp(argv[2], "full") == 0;
  int iters = atoi(argv[3]);
  int check = argc > 4 && atoi(argv[4]) == 1;
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  budget = (long)rl.rlim_cur - 256;
  if (budget < 0) budget = 0;
  unsigned long sink = 0;
  char rel[64];
  for (int it = 0; it < iters; it++) {
    long t0 = now_ns();
    long procs = 0;
    int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
      perror(root);
      return 1;
    }
    for (;;) {
      long n = syscall(SYS_getdents64, rootfd, dents, sizeof dents);
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        unsigned short reclen = *(unsigned short *)(dents + off + 16);
        const char *name = dents + off + 19;
        off += reclen;
        if (name[0] < '1' || name[0] > '9') continue;
        long pid = 0;
        const char *p = name;
        while (*p >= '0' && *p <= '9') pid = pid * 10 + (*p++ - '0');
        if (*p) continue;
        int *fdp = slot(pid);
        long got = -1;
        if (*fdp >= 0 && check) {
          struct stat st;
          if (fstat(*fdp, &st) == 0 && st.st_nlink == 0) {
            close(*fdp);
            *fdp = -1;
            kept--;
          }
        }
        if (*fdp >= 0) {
          got = pread(*fdp, buf, sizeof buf, 0);
          if (got < 0) {
            close(*fdp);
            *fdp = -1;
            kept--;
          }
        }
        if (got < 0) {
          snprintf(rel, sizeof rel, "%s/stat", name);
          int fd = openat(rootfd, rel, O_RDONLY | O_CLOEXEC);
          if (fd < 0) continue;
          got = pread(fd, buf, sizeof buf, 0);
          if (kept < budget && got >= 0) {
            *fdp = fd;
            kept++;
          } else {
            close(fd);
          }
          if (got < 0) continue;
        }
        sink += (unsigned char)buf[got > 0 ? got - 1 : 0];
        if (full) {
          snprintf(rel, sizeof rel, "%s/status", name);
          sink += read_small(rootfd, rel, &fd_status[pid], check);
          snprintf(rel, sizeof rel, "%s/io", name);
          sink += read_small(rootfd, rel, &fd_io[pid], check);
          snprintf(rel, sizeof rel, "%s/fd", name);
          sink += count_dir(rootfd, rel, &fd_dir[pid], check);
        }
        procs++;
      }
    }
    close(rootfd);
    printf("%ld %ld\n", procs, now_ns() - t0);
  }
  fprintf(stderr, "sink %lu kept %ld\n", sink, kept);
  return 0;
}
