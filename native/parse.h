// Parsers for procfs text, byte for byte the same interpretation as
// src/sources/procfs/parse.ts (the TypeScript reader decodes `stat` as UTF-8
// and `status`/`io` as latin1; these work on the raw bytes and give the same
// numbers). No allocation, no sscanf/strtoull over whole lines.
#ifndef NRDOT_NATIVE_PARSE_H_
#define NRDOT_NATIVE_PARSE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace nrdot {

// PF_KTHREAD in the `stat` flags word.
constexpr int32_t kPfKthread = 0x00200000;

struct StatFields {
  const char* comm;  // points into the parsed buffer
  size_t comm_len;
  uint8_t state;  // low byte of the first UTF-16 code unit, as a Uint8Array stores it
  double ppid;
  double flags;
  double minflt;
  double majflt;
  double utime;  // ticks
  double stime;  // ticks
  double threads;
  double starttime;  // ticks since boot
  double vsize;      // bytes
  double rss;        // pages
  double blkio;      // delayacct_blkio_ticks, 0 when absent
};

// parseStat(): false for a truncated or garbage line. The comm ends at the
// LAST ')', so names with spaces and parentheses parse. s[n] must be
// readable and NUL (a sentinel for the digit loops).
bool ParseStat(const char* s, size_t n, StatFields* out);

// countOrUnknown() of src/sources/batch.ts: `v` when it is a whole number
// from 0 to 2^53 - 1 (a double holds it exactly), else -1 (unknown). Applied
// to every count column where the batch is filled.
inline double ExactCount(double v) {
  return v >= 0 && v <= 9007199254740991.0 && v == static_cast<double>(static_cast<int64_t>(v)) ? v : -1;
}

// firstNumberAfter(text, key): the decimal number after `key` (spaces and
// tabs skipped), -1 when the key or the number is absent.
double NumberAfter(const char* s, size_t n, const char* key, size_t key_len);

// Like NumberAfter on "\n" + text, for keys that may open the file (`io`).
double NumberAfterLineStart(const char* s, size_t n, const char* key_nl, size_t key_nl_len);

// ECMAScript ToInt32: what storing a number into an Int32Array does.
int32_t ToInt32(double v);

// parseCmdline(): trailing NULs dropped, inner NULs become spaces.
void JoinCmdline(std::string* s);

}  // namespace nrdot

#endif  // NRDOT_NATIVE_PARSE_H_
