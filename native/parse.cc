#include "parse.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace nrdot {
namespace {

inline unsigned Digit(unsigned char c) { return static_cast<unsigned>(c) - '0'; }

// toInt() of parse.ts over bytes [p, e): an optional '-', then digits only.
// Up to 15 digits fit a double exactly, so integer accumulation gives the
// same value as the TypeScript `v = v * 10 + c`; longer runs repeat that
// double arithmetic step by step (built with -ffp-contract=off).
bool ToInt(const unsigned char* p, const unsigned char* e, double* out) {
  bool neg = false;
  if (p < e && *p == '-') {
    neg = true;
    p++;
  }
  if (p >= e) return false;
  double v;
  if (e - p <= 15) {
    uint64_t u = 0;
    for (; p < e; p++) {
      unsigned d = Digit(*p);
      if (d > 9) return false;
      u = u * 10 + d;
    }
    v = static_cast<double>(u);
  } else {
    v = 0;
    for (; p < e; p++) {
      unsigned d = Digit(*p);
      if (d > 9) return false;
      v = v * 10 + d;
    }
  }
  *out = neg ? -v : v;
  return true;
}

// First index >= i holding ' ' or '\n' (or n), eight bytes at a time.
inline size_t FindDelim(const unsigned char* s, size_t i, size_t n) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  while (i + 8 <= n) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    uint64_t a = w ^ (kOnes * ' ');
    uint64_t b = w ^ (kOnes * '\n');
    // The lowest flagged byte is exact (little-endian): the first delimiter.
    uint64_t z = ((a - kOnes) & ~a & kHigh) | ((b - kOnes) & ~b & kHigh);
    if (z != 0) return i + (__builtin_ctzll(z) >> 3);
    i += 8;
  }
  while (i < n && s[i] != ' ' && s[i] != '\n') i++;
  return i;
}

// One step of the WHATWG UTF-8 decoder (the one V8 uses to make the string
// the TypeScript reader parses): bytes consumed, UTF-16 units produced and
// the first unit. An invalid or truncated sequence is one U+FFFD and never
// swallows an ASCII byte, so ASCII delimiters stay where they are.
size_t Utf8Step(const unsigned char* p, const unsigned char* e, int* units, uint32_t* first, uint32_t* cp_out) {
  unsigned b = p[0];
  *units = 1;
  if (b < 0x80) {
    *first = *cp_out = b;
    return 1;
  }
  int need;
  unsigned lo = 0x80, hi = 0xBF;
  uint32_t cp;
  if (b >= 0xC2 && b <= 0xDF) {
    need = 1;
    cp = b & 0x1F;
  } else if (b >= 0xE0 && b <= 0xEF) {
    need = 2;
    cp = b & 0x0F;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    need = 3;
    cp = b & 0x07;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    *first = *cp_out = 0xFFFD;
    return 1;
  }
  size_t i = 1;
  for (int k = 0; k < need; k++, i++) {
    if (p + i >= e || p[i] < lo || p[i] > hi) {
      *first = *cp_out = 0xFFFD;
      return i;
    }
    lo = 0x80;
    hi = 0xBF;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  *cp_out = cp;
  if (cp >= 0x10000) {
    *units = 2;
    *first = 0xD800 + ((cp - 0x10000) >> 10);
  } else {
    *first = cp;
  }
  return i;
}

// The pid before " (": parse.ts takes toInt(line, 0, open - 1), i.e. every
// UTF-16 unit before '(' except the last one.
bool ParsePidPrefix(const unsigned char* s, size_t open, double* pid) {
  size_t ascii = 0;
  while (ascii < open && s[ascii] < 0x80) ascii++;
  if (ascii == open) return ToInt(s, s + open - 1, pid);
  // Rare: non-ASCII before '('. Only a last character of one unit can be
  // dropped; anything else non-ASCII left in the range makes it NaN.
  size_t i = ascii, last_start = ascii;
  int last_units = 1;
  int non_ascii_chars = 0;
  while (i < open) {
    int units;
    uint32_t first, cp;
    last_start = i;
    i += Utf8Step(s + i, s + open, &units, &first, &cp);
    last_units = units;
    if (s[last_start] >= 0x80) non_ascii_chars++;
  }
  if (last_units != 1 || non_ascii_chars != 1 || s[last_start] < 0x80) return false;
  return ToInt(s, s + last_start, pid);
}

}  // namespace

bool ParseStat(const char* text, size_t n, StatFields* out) {
  const unsigned char* s = reinterpret_cast<const unsigned char*>(text);
  const void* o = memchr(s, '(', n);
  const void* c = memrchr(s, ')', n);
  if (o == nullptr || c == nullptr) return false;
  size_t open = static_cast<const unsigned char*>(o) - s;
  size_t close = static_cast<const unsigned char*>(c) - s;
  if (open < 1 || close < open) return false;
  double pid;
  if (!ParsePidPrefix(s, open, &pid) || !(pid > 0)) return false;
  out->comm = text + open + 1;
  out->comm_len = close - open - 1;

  // Fields start two UTF-16 units after ')': skip one character.
  size_t i = close + 2;
  bool low_surrogate_first = false;
  uint32_t low_surrogate = 0;
  if (close + 1 < n && s[close + 1] >= 0x80) {
    int units;
    uint32_t first, cp;
    size_t len = Utf8Step(s + close + 1, s + n, &units, &first, &cp);
    if (units == 1) {
      i = close + 1 + len;
    } else {
      // The TypeScript index lands on the low surrogate of this character.
      i = close + 1;
      low_surrogate_first = true;
      low_surrogate = 0xDC00 + ((cp - 0x10000) & 0x3FF);
    }
  }

  // Tokens are split on ' ' and end at '\n'. Fields 1-21 must be integers
  // (parse.ts rejects the line otherwise) and 39 is used when it is one; the
  // tokens in between are only delimited. s[n] is a NUL sentinel, so the
  // digit loops need no bounds check.
  double f[40];
  bool ok[40];
  int idx = 0;
  uint8_t state = 0;
  while (i < n && idx < 40) {
    while (s[i] == ' ') i++;
    size_t start = i;
    if (idx == 0 || (idx > 21 && idx < 39)) {
      i = FindDelim(s, i, n);
      if (i == start) break;
      if (idx == 0) {
        if (low_surrogate_first && start == close + 1) {
          state = static_cast<uint8_t>(low_surrogate & 0xFF);
        } else if (s[start] < 0x80) {
          state = s[start];
        } else {
          int units;
          uint32_t first, cp;
          Utf8Step(s + start, s + n, &units, &first, &cp);
          state = static_cast<uint8_t>(first & 0xFF);
        }
      }
    } else {
      const unsigned char* p = s + i;
      bool neg = *p == '-';
      p += neg;
      const unsigned char* d0 = p;
      uint64_t v = 0;
      for (;; p++) {
        unsigned d = Digit(*p);
        if (d > 9) break;
        v = v * 10 + d;
      }
      size_t end = static_cast<size_t>(p - s);
      if (end < n && *p != ' ' && *p != '\n') {
        // not a number: find where the token ends
        i = FindDelim(s, end, n);
        ok[idx] = false;
      } else {
        i = end;
        if (i == start) break;
        size_t nd = static_cast<size_t>(p - d0);
        if (nd == 0) {
          ok[idx] = false;
        } else if (nd <= 15) {
          double dv = static_cast<double>(v);
          f[idx] = neg ? -dv : dv;
          ok[idx] = true;
        } else {
          ok[idx] = ToInt(s + start, s + i, &f[idx]);
        }
      }
    }
    idx++;
    if (i < n && s[i] == '\n') break;
  }
  if (idx < 22) return false;
  for (int k = 1; k < 22; k++)
    if (!ok[k]) return false;
  out->state = state;
  out->ppid = f[1];
  out->flags = f[6];
  out->minflt = f[7];
  out->majflt = f[9];
  out->utime = f[11];
  out->stime = f[12];
  out->threads = f[17];
  out->starttime = f[19];
  out->vsize = f[20];
  out->rss = f[21];
  out->blkio = idx > 39 && ok[39] ? f[39] : 0;
  return true;
}

namespace {

double DigitsAt(const unsigned char* s, size_t n, size_t i) {
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
  size_t start = i;
  while (i < n && Digit(s[i]) <= 9) i++;
  if (i == start) return -1;
  if (i - start <= 15) {
    uint64_t u = 0;
    for (size_t k = start; k < i; k++) u = u * 10 + Digit(s[k]);
    return static_cast<double>(u);
  }
  // Number("<digits>") is correctly rounded; so is strtod.
  std::string digits(reinterpret_cast<const char*>(s) + start, i - start);
  return strtod(digits.c_str(), nullptr);
}

}  // namespace

double NumberAfter(const char* text, size_t n, const char* key, size_t key_len) {
  const void* at = memmem(text, n, key, key_len);
  if (at == nullptr) return -1;
  const unsigned char* s = reinterpret_cast<const unsigned char*>(text);
  return DigitsAt(s, n, static_cast<const char*>(at) - text + key_len);
}

double NumberAfterLineStart(const char* text, size_t n, const char* key_nl, size_t key_nl_len) {
  // indexOf on "\n" + text finds a key on the first line first.
  if (n >= key_nl_len - 1 && memcmp(text, key_nl + 1, key_nl_len - 1) == 0) {
    return DigitsAt(reinterpret_cast<const unsigned char*>(text), n, key_nl_len - 1);
  }
  return NumberAfter(text, n, key_nl, key_nl_len);
}

int32_t ToInt32(double v) {
  if (v >= -2147483648.0 && v <= 2147483647.0) return static_cast<int32_t>(v);
  if (!std::isfinite(v)) return 0;
  double t = std::trunc(v);
  double m = std::fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  uint32_t u = static_cast<uint32_t>(m);
  return static_cast<int32_t>(u);
}

void JoinCmdline(std::string* s) {
  size_t end = s->size();
  while (end > 0 && (*s)[end - 1] == '\0') end--;
  s->resize(end);
  for (char& ch : *s)
    if (ch == '\0') ch = ' ';
}

}  // namespace nrdot
