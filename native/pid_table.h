// pid -> per-process scanner state: open addressing (linear probing) over an
// index of slots into a dense vector, so 100k processes cost about 5 MB.
#ifndef NRDOT_NATIVE_PID_TABLE_H_
#define NRDOT_NATIVE_PID_TABLE_H_

#include <cstdint>
#include <vector>

namespace nrdot {

struct PidEntry {
  int64_t pid = 0;      // 0: free slot in the dense vector
  double start = 0;     // identity start ticks (valid when known)
  int fd = -1;          // kept fd of <pid>/stat, -1 none
  int aux[3] = {-1, -1, -1};  // kept fds of status, io and the fd/ directory
  uint32_t listed = 0;  // scan generation that listed this pid
  uint32_t seen = 0;    // scan generation that read the identity completely
  uint32_t detail = 0;  // scan generation whose caller asked for detail
  bool known = false;   // identity (pid, start) seen by the previous scan
  bool kernel = false;  // PF_KTHREAD at first sight
  bool no_keep = false; // the file cannot be pread (ESPIPE): always reopen
  // CPU at the last bounded scan that parsed this pid's `stat` (for the
  // min_cpu_percent bound): identity start, utime+stime seconds, tree uptime.
  bool has_prev = false;
  double prev_start = 0;
  double prev_cpu = 0;
  double prev_uptime = 0;
};

class PidTable {
 public:
  PidTable() { Rehash(1024); }

  PidEntry* Find(int64_t pid) {
    for (size_t i = Slot(pid);; i = (i + 1) & mask_) {
      int32_t k = index_[i];
      if (k < 0) return nullptr;
      if (entries_[k].pid == pid) return &entries_[k];
    }
  }

  PidEntry* FindOrInsert(int64_t pid) {
    PidEntry* e = Find(pid);
    if (e != nullptr) return e;
    if ((size_ + 1) * 10 > index_.size() * 7) Rehash(index_.size() * 2);
    int32_t k;
    if (!free_.empty()) {
      k = free_.back();
      free_.pop_back();
    } else {
      k = static_cast<int32_t>(entries_.size());
      entries_.emplace_back();
    }
    entries_[k] = PidEntry();
    entries_[k].pid = pid;
    size_t i = Slot(pid);
    while (index_[i] >= 0) i = (i + 1) & mask_;
    index_[i] = k;
    size_++;
    return &entries_[k];
  }

  // Backward-shift deletion keeps probe chains intact without tombstones.
  void Erase(int64_t pid) {
    size_t i = Slot(pid);
    for (;; i = (i + 1) & mask_) {
      int32_t k = index_[i];
      if (k < 0) return;
      if (entries_[k].pid == pid) break;
    }
    int32_t k = index_[i];
    entries_[k].pid = 0;
    free_.push_back(k);
    size_--;
    size_t hole = i;
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      int32_t m = index_[j];
      if (m < 0) break;
      size_t home = Slot(entries_[m].pid);
      // Move m into the hole unless its home lies cyclically in (hole, j].
      bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!stays) {
        index_[hole] = m;
        hole = j;
      }
    }
    index_[hole] = -1;
  }

  std::vector<PidEntry>& entries() { return entries_; }
  size_t size() const { return size_; }

 private:
  size_t Slot(int64_t pid) const {
    return static_cast<size_t>((static_cast<uint64_t>(pid) * 0x9E3779B97F4A7C15ull) >> shift_) & mask_;
  }

  void Rehash(size_t cap) {
    int bits = 0;
    while ((size_t{1} << bits) < cap) bits++;
    index_.assign(size_t{1} << bits, -1);
    mask_ = index_.size() - 1;
    shift_ = 64 - bits;
    for (size_t k = 0; k < entries_.size(); k++) {
      if (entries_[k].pid == 0) continue;
      size_t i = Slot(entries_[k].pid);
      while (index_[i] >= 0) i = (i + 1) & mask_;
      index_[i] = static_cast<int32_t>(k);
    }
  }

  std::vector<int32_t> index_;
  std::vector<PidEntry> entries_;
  std::vector<int32_t> free_;
  size_t size_ = 0;
  size_t mask_ = 0;
  int shift_ = 64;
};

}  // namespace nrdot

#endif  // NRDOT_NATIVE_PID_TABLE_H_
