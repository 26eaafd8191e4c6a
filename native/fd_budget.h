// The process-wide budget of kept `stat` fds. At load the soft RLIMIT_NOFILE
// is raised to the hard limit; the budget is the hard limit minus a reserve
// for everything else in the process (sockets, log files, libuv), capped.
#ifndef NRDOT_NATIVE_FD_BUDGET_H_
#define NRDOT_NATIVE_FD_BUDGET_H_

#include <cstdint>

namespace nrdot {

constexpr int64_t kFdReserve = 256;
constexpr int64_t kFdBudgetCap = 1 << 18;

struct FdLimits {
  int64_t soft;
  int64_t hard;
  int64_t budget;
  int64_t kept;
};

// Raise the soft limit to the hard one and size the budget (idempotent).
void InitFdBudget();
FdLimits CurrentFdLimits();
// Take one fd from the budget; false when it is spent.
bool AcquireFd();
// The same for a status/io/fd-dir fd: only while half the budget is free,
// so `stat` fds of processes yet to come keep priority.
bool AcquireAuxFd();
void ReleaseFd();
// EMFILE/ENFILE seen: stop growing, leave room for the slow path.
void ShrinkFdBudget();

}  // namespace nrdot

#endif  // NRDOT_NATIVE_FD_BUDGET_H_
