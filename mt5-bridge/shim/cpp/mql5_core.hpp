// MQL5 language core for the translated EA: scalar types, `string` (UTF-16 like MQL5), dynamic and
// fixed arrays, the string/array/math functions the EA calls, StringFormat/Print. Semantics follow the
// MQL5 reference (docs quoted in /work/shared/docs/mt5-bridge.md): ulong wraps as unsigned 64-bit,
// StringToCharArray copies the terminating NUL and counts it, ArrayCopy grows a dynamic destination.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <string>
#include <vector>
#include <type_traits>
#include <algorithm>

typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned int uint;
typedef uint64_t ulong;
static_assert(sizeof(long) == 8, "MQL5 long is 64-bit; build on an LP64 platform");
typedef long datetime;
typedef uint color;

#define WHOLE_ARRAY (-1)
#define CP_ACP 0
#define CP_UTF8 65001
#define INVALID_HANDLE (-1)
#define LONG_MIN_MQL (-9223372036854775807L - 1)
#ifndef LONG_MIN
#define LONG_MIN LONG_MIN_MQL
#endif
#ifndef LONG_MAX
#define LONG_MAX 9223372036854775807L
#endif
#ifndef INT_MAX
#define INT_MAX 2147483647
#endif
#define EMPTY_VALUE DBL_MAX

extern int _LastError;
inline int GetLastError() { return _LastError; }
inline void ResetLastError() { _LastError = 0; }

// ------------------------------------------------------------------------------------------ string
std::u16string mql_from_utf8(const std::string &s);
std::string mql_to_utf8(const std::u16string &s);

class MqlString {
 public:
  std::u16string v;
  MqlString() {}
  MqlString(const char *s) : v(mql_from_utf8(s ? s : "")) {}
  MqlString(const std::u16string &s) : v(s) {}
  std::string utf8() const { return mql_to_utf8(v); }
  MqlString &operator+=(const MqlString &o) { v += o.v; return *this; }
  MqlString &operator+=(const char *o) { v += mql_from_utf8(o); return *this; }
};
inline MqlString operator+(const MqlString &a, const MqlString &b) { return MqlString(a.v + b.v); }
inline MqlString operator+(const char *a, const MqlString &b) { return MqlString(MqlString(a).v + b.v); }
inline MqlString operator+(const MqlString &a, const char *b) { return MqlString(a.v + MqlString(b).v); }
inline bool operator==(const MqlString &a, const MqlString &b) { return a.v == b.v; }
inline bool operator!=(const MqlString &a, const MqlString &b) { return a.v != b.v; }
inline bool operator==(const MqlString &a, const char *b) { return a.v == MqlString(b).v; }
inline bool operator!=(const MqlString &a, const char *b) { return !(a == b); }
inline bool operator<(const MqlString &a, const MqlString &b) { return a.v < b.v; }

// ------------------------------------------------------------------------------------------ arrays
// A dynamic array (T name[]) or a fixed one (T name[N], ArrayResize fails on it), as in MQL5.
template <typename T>
class MqlArray {
 public:
  std::vector<T> v;
  bool fixed = false;
  MqlArray() {}
  explicit MqlArray(int n, bool isFixed) : v(n), fixed(isFixed) {}
  T &operator[](long i) {
    if (i < 0 || (size_t)i >= v.size()) mql_array_out_of_range(i);
    return v[(size_t)i];
  }
  const T &operator[](long i) const {
    if (i < 0 || (size_t)i >= v.size()) mql_array_out_of_range(i);
    return v[(size_t)i];
  }
  int size() const { return (int)v.size(); }
  // MQL5 stops the program with "array out of range"; so does the shim (loudly)
  [[noreturn]] void mql_array_out_of_range(long i) const {
    fprintf(stderr, "MQL5 runtime: array out of range (index %ld, size %zu)\n", i, v.size());
    fflush(stderr);
    abort();
  }
};

template <typename T> int ArraySize(const MqlArray<T> &a) { return a.size(); }
template <typename T> int ArrayResize(MqlArray<T> &a, int n, int reserve = 0) {
  (void)reserve;
  if (a.fixed) { _LastError = 4007; return -1; }
  if (n < 0) return -1;
  a.v.resize((size_t)n);
  return n;
}
template <typename T> void ArrayFree(MqlArray<T> &a) { if (!a.fixed) a.v.clear(); }
template <typename T, typename V> int ArrayInitialize(MqlArray<T> &a, V value) {
  for (auto &x : a.v) x = (T)value;
  return a.size();
}
template <typename T> int ArrayCopy(MqlArray<T> &dst, const MqlArray<T> &src, int dst_start = 0, int src_start = 0, int count = WHOLE_ARRAY) {
  if (src_start < 0 || dst_start < 0) return 0;
  int avail = src.size() - src_start;
  if (avail <= 0) return 0;
  if (count < 0 || count > avail) count = avail;
  if (dst_start + count > dst.size()) {
    if (dst.fixed) count = dst.size() - dst_start;
    else dst.v.resize((size_t)(dst_start + count));
  }
  if (count <= 0) return 0;
  const std::vector<T> tmp(src.v.begin() + src_start, src.v.begin() + src_start + count); // src may be dst
  for (int i = 0; i < count; i++) dst.v[(size_t)(dst_start + i)] = tmp[(size_t)i];
  return count;
}
template <typename T> bool ArrayRemove(MqlArray<T> &a, uint start, uint count = (uint)WHOLE_ARRAY) {
  if (a.fixed) { _LastError = 4007; return false; }
  if (start >= (uint)a.size()) return false;
  uint end = count == (uint)WHOLE_ARRAY || start + count > (uint)a.size() ? (uint)a.size() : start + count;
  a.v.erase(a.v.begin() + start, a.v.begin() + end);
  return true;
}

// ------------------------------------------------------------------------------------------ math
template <typename A, typename B> auto MathMin(A a, B b) -> typename std::common_type<A, B>::type {
  typedef typename std::common_type<A, B>::type C;
  return (C)a < (C)b ? (C)a : (C)b;
}
template <typename A, typename B> auto MathMax(A a, B b) -> typename std::common_type<A, B>::type {
  typedef typename std::common_type<A, B>::type C;
  return (C)a > (C)b ? (C)a : (C)b;
}
inline double MathRound(double x) { return std::round(x); }
inline double MathPow(double a, double b) { return std::pow(a, b); }
template <typename T> T MathAbs(T x) { return x < 0 ? -x : x; }
inline double MathFloor(double x) { return std::floor(x); }
inline double MathCeil(double x) { return std::ceil(x); }
void MathSrand(uint seed);
int MathRand();

// ------------------------------------------------------------------------------------------ strings
inline int StringLen(const MqlString &s) { return (int)s.v.size(); }
inline ushort StringGetCharacter(const MqlString &s, int pos) { return pos >= 0 && (size_t)pos < s.v.size() ? (ushort)s.v[(size_t)pos] : 0; }
inline MqlString ShortToString(ushort c) { return MqlString(std::u16string(1, (char16_t)c)); }
inline int StringFind(const MqlString &s, const MqlString &sub, int start = 0) {
  if (start < 0) start = 0;
  size_t p = s.v.find(sub.v, (size_t)start);
  return p == std::u16string::npos ? -1 : (int)p;
}
inline MqlString StringSubstr(const MqlString &s, int start, int length = -1) {
  if (start < 0 || (size_t)start >= s.v.size()) return MqlString();
  return MqlString(s.v.substr((size_t)start, length < 0 ? std::u16string::npos : (size_t)length));
}
inline bool StringAdd(MqlString &s, const MqlString &add) { s.v += add.v; return true; }
inline int StringTrimLeft(MqlString &s) {
  size_t i = 0;
  while (i < s.v.size() && (s.v[i] == ' ' || s.v[i] == '\t' || s.v[i] == '\r' || s.v[i] == '\n')) i++;
  s.v.erase(0, i);
  return (int)i;
}
inline int StringTrimRight(MqlString &s) {
  size_t n = s.v.size(), i = n;
  while (i > 0 && (s.v[i - 1] == ' ' || s.v[i - 1] == '\t' || s.v[i - 1] == '\r' || s.v[i - 1] == '\n')) i--;
  s.v.erase(i);
  return (int)(n - i);
}
inline int StringSplit(const MqlString &s, ushort sep, MqlArray<MqlString> &out) {
  out.v.clear();
  if (s.v.empty()) return 0;
  size_t st = 0;
  for (size_t i = 0; i <= s.v.size(); i++) {
    if (i == s.v.size() || s.v[i] == (char16_t)sep) { out.v.push_back(MqlString(s.v.substr(st, i - st))); st = i + 1; }
  }
  return out.size();
}
inline long StringToInteger(const MqlString &s) { return std::strtol(s.utf8().c_str(), nullptr, 10); }
inline double StringToDouble(const MqlString &s) { return std::strtod(s.utf8().c_str(), nullptr); }
MqlString IntegerToString(long v, int len = 0, ushort fill = ' ');
MqlString DoubleToString(double v, int digits = 8);
int StringToCharArray(const MqlString &text, MqlArray<uchar> &array, int start = 0, int count = -1, uint codepage = CP_ACP);
MqlString CharArrayToString(const MqlArray<uchar> &array, int start = 0, int count = -1, uint codepage = CP_ACP);

// StringFormat / PrintFormat: each argument becomes a tagged value, then MQL5 conversion specs
// (%d %u %x %I64d %I64u %s %f %g %c with flags/width/precision) are applied in order.
struct MqlFmtArg {
  enum Kind { S64, U64, F64, STR } kind;
  long long i = 0;
  unsigned long long u = 0;
  double d = 0;
  std::string s;
};
template <typename T> MqlFmtArg mql_fmt_arg(const T &x) {
  MqlFmtArg a;
  if constexpr (std::is_same<T, MqlString>::value) { a.kind = MqlFmtArg::STR; a.s = x.utf8(); }
  else if constexpr (std::is_same<T, bool>::value) { a.kind = MqlFmtArg::S64; a.i = x ? 1 : 0; }
  else if constexpr (std::is_floating_point<T>::value) { a.kind = MqlFmtArg::F64; a.d = (double)x; }
  else if constexpr (std::is_enum<T>::value) { a.kind = MqlFmtArg::S64; a.i = (long long)x; }
  else if constexpr (std::is_integral<T>::value && std::is_unsigned<T>::value) { a.kind = MqlFmtArg::U64; a.u = (unsigned long long)x; a.i = (long long)x; }
  else if constexpr (std::is_integral<T>::value) { a.kind = MqlFmtArg::S64; a.i = (long long)x; a.u = (unsigned long long)x; }
  else if constexpr (std::is_convertible<T, const char *>::value) { a.kind = MqlFmtArg::STR; a.s = (const char *)x; }
  else static_assert(sizeof(T) == 0, "StringFormat: argument type not supported by the MQL5 shim");
  return a;
}
std::string mql_format(const char *where, const std::string &fmt, const std::vector<MqlFmtArg> &args);
template <typename... A> MqlString StringFormat(const MqlString &fmt, const A &...args) {
  std::vector<MqlFmtArg> v{mql_fmt_arg(args)...};
  return MqlString(mql_from_utf8(mql_format("StringFormat", fmt.utf8(), v)));
}
void mql_print_line(const std::string &s);
template <typename... A> void PrintFormat(const MqlString &fmt, const A &...args) {
  std::vector<MqlFmtArg> v{mql_fmt_arg(args)...};
  mql_print_line(mql_format("PrintFormat", fmt.utf8(), v));
}
template <typename T> std::string mql_print_piece(const T &x) {
  if constexpr (std::is_same<T, MqlString>::value) return x.utf8();
  else if constexpr (std::is_same<T, bool>::value) return x ? "true" : "false";
  else if constexpr (std::is_floating_point<T>::value) { char b[64]; snprintf(b, sizeof b, "%.8g", (double)x); return b; }
  else if constexpr (std::is_enum<T>::value) return std::to_string((long long)x);
  else if constexpr (std::is_integral<T>::value && std::is_unsigned<T>::value) return std::to_string((unsigned long long)x);
  else if constexpr (std::is_integral<T>::value) return std::to_string((long long)x);
  else if constexpr (std::is_convertible<T, const char *>::value) return std::string((const char *)x);
  else static_assert(sizeof(T) == 0, "Print: argument type not supported by the MQL5 shim");
}
template <typename... A> void Print(const A &...args) {
  std::string s;
  ((s += mql_print_piece(args)), ...);
  mql_print_line(s);
}

// input parameters: the harness sets them through MQL_INPUT_<name> environment variables
const char *mql_input_raw(const char *name);
template <typename T> T MqlInput(const char *name, T def) {
  const char *raw = mql_input_raw(name);
  if (!raw) return def;
  if constexpr (std::is_same<T, MqlString>::value) return MqlString(raw);
  else if constexpr (std::is_same<T, bool>::value) return std::strcmp(raw, "true") == 0 || std::strcmp(raw, "1") == 0;
  else if constexpr (std::is_floating_point<T>::value) return (T)std::strtod(raw, nullptr);
  else return (T)std::strtoll(raw, nullptr, 10);
}
inline MqlString MqlInput(const char *name, const char *def) { return MqlInput<MqlString>(name, MqlString(def)); }
