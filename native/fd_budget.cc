#include "fd_budget.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>

namespace nrdot {
namespace {

std::atomic<int64_t> g_budget{0};
std::atomic<int64_t> g_kept{0};
int64_t g_soft = 0;
int64_t g_hard = 0;

int64_t AsCount(rlim_t v) { return v == RLIM_INFINITY ? INT64_MAX : static_cast<int64_t>(v); }

}  // namespace

void InitFdBudget() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur != rl.rlim_max) {
    struct rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  g_soft = AsCount(rl.rlim_cur);
  g_hard = AsCount(rl.rlim_max);
  g_budget.store(std::clamp<int64_t>(g_soft - kFdReserve, 0, kFdBudgetCap));
}

FdLimits CurrentFdLimits() { return FdLimits{g_soft, g_hard, g_budget.load(), g_kept.load()}; }

bool AcquireFd() {
  int64_t n = g_kept.fetch_add(1) + 1;
  if (n <= g_budget.load(std::memory_order_relaxed)) return true;
  g_kept.fetch_sub(1);
  return false;
}

bool AcquireAuxFd() {
  int64_t n = g_kept.fetch_add(1) + 1;
  if (n * 2 <= g_budget.load(std::memory_order_relaxed)) return true;
  g_kept.fetch_sub(1);
  return false;
}

void ReleaseFd() { g_kept.fetch_sub(1); }

void ShrinkFdBudget() {
  int64_t kept = g_kept.load();
  int64_t b = g_budget.load();
  int64_t target = std::max<int64_t>(0, kept - 64);
  while (target < b && !g_budget.compare_exchange_weak(b, target)) {
  }
}

}  // namespace nrdot
