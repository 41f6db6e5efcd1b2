// The shim's terminal: one EA thread running OnInit, then OnTimer / OnTick / OnBookEvent from an event
// loop, against a simulated broker read from a tape file (see mt5-bridge/shim/broker-tape.ts for the
// format). Real TCP sockets; real monotonic time for GetTickCount64 and timers (quantised to the
// configured Windows timer resolution); a virtual broker clock that may run faster than real time.
#include "mql5_api.hpp"
#include <arpa/inet.h>
#include <csignal>
#include <ctime>
#include <errno.h>
#include <fcntl.h>
#include <map>
#include <memory>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int _LastError = 0;
MqlString _Symbol;

// provided by the translated EA (the translator emits these adapters)
int mql_ea_OnInit();
void mql_ea_OnDeinit(int reason);
void mql_ea_OnTimer();
void mql_ea_OnTick();
void mql_ea_OnBookEvent(const MqlString &symbol);
extern const bool mql_ea_has_OnTick, mql_ea_has_OnBookEvent, mql_ea_has_OnTimer;

// ------------------------------------------------------------------------------------------ utf
std::u16string mql_from_utf8(const std::string &s) {
  std::u16string o;
  o.reserve(s.size());
  bool ascii = true;
  for (unsigned char c : s) if (c >= 0x80) { ascii = false; break; }
  if (ascii) { o.assign(s.begin(), s.end()); return o; }  // the common case, fast
  for (size_t i = 0; i < s.size();) {
    unsigned c = (unsigned char)s[i];
    unsigned cp;
    int n;
    if (c < 0x80) { cp = c; n = 1; }
    else if ((c >> 5) == 6 && i + 1 < s.size()) { cp = ((c & 0x1f) << 6) | (s[i + 1] & 0x3f); n = 2; }
    else if ((c >> 4) == 14 && i + 2 < s.size()) { cp = ((c & 0x0f) << 12) | ((s[i + 1] & 0x3f) << 6) | (s[i + 2] & 0x3f); n = 3; }
    else if ((c >> 3) == 30 && i + 3 < s.size()) { cp = ((c & 0x07) << 18) | ((s[i + 1] & 0x3f) << 12) | ((s[i + 2] & 0x3f) << 6) | (s[i + 3] & 0x3f); n = 4; }
    else { cp = 0xfffd; n = 1; }
    if (cp >= 0x10000) { cp -= 0x10000; o += (char16_t)(0xd800 + (cp >> 10)); o += (char16_t)(0xdc00 + (cp & 0x3ff)); }
    else o += (char16_t)cp;
    i += n;
  }
  return o;
}
std::string mql_to_utf8(const std::u16string &s) {
  std::string o;
  o.reserve(s.size());
  bool ascii = true;
  for (char16_t c : s) if (c >= 0x80) { ascii = false; break; }
  if (ascii) { o.assign(s.begin(), s.end()); return o; }
  for (size_t i = 0; i < s.size(); i++) {
    unsigned cp = s[i];
    if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < s.size()) { cp = 0x10000 + ((cp - 0xd800) << 10) + (s[i + 1] - 0xdc00); i++; }
    if (cp < 0x80) o += (char)cp;
    else if (cp < 0x800) { o += (char)(0xc0 | (cp >> 6)); o += (char)(0x80 | (cp & 0x3f)); }
    else if (cp < 0x10000) { o += (char)(0xe0 | (cp >> 12)); o += (char)(0x80 | ((cp >> 6) & 0x3f)); o += (char)(0x80 | (cp & 0x3f)); }
    else { o += (char)(0xf0 | (cp >> 18)); o += (char)(0x80 | ((cp >> 12) & 0x3f)); o += (char)(0x80 | ((cp >> 6) & 0x3f)); o += (char)(0x80 | (cp & 0x3f)); }
  }
  return o;
}

MqlString IntegerToString(long v, int len, ushort fill) {
  std::string s = std::to_string(v);
  while ((int)s.size() < len) s.insert(s.begin(), (char)fill);
  return MqlString(s.c_str());
}
MqlString DoubleToString(double v, int digits) {
  if (digits < 0 || digits > 16) digits = 8;
  char b[512];
  snprintf(b, sizeof b, "%.*f", digits, v);
  return MqlString(b);
}
int StringToCharArray(const MqlString &text, MqlArray<uchar> &array, int start, int count, uint codepage) {
  std::string bytes;
  if (codepage == CP_UTF8) bytes = text.utf8();
  else for (char16_t c : text.v) bytes += (char)(c < 0x100 ? c : '?'); // CP_ACP: non-Latin-1 is lost, as on a real terminal
  bytes.push_back('\0');                                               // the terminating NUL is copied and counted
  int n = (int)bytes.size();
  if (count >= 0 && count < n) n = count;
  if (start + n > array.size()) {
    if (array.fixed) n = array.size() - start;
    else array.v.resize((size_t)(start + n));
  }
  for (int i = 0; i < n; i++) array.v[(size_t)(start + i)] = (uchar)bytes[(size_t)i];
  return n;
}
MqlString CharArrayToString(const MqlArray<uchar> &array, int start, int count, uint codepage) {
  if (start < 0 || start >= array.size()) return MqlString();
  int end = count < 0 ? array.size() : std::min(array.size(), start + count);
  std::string bytes;
  for (int i = start; i < end && array.v[(size_t)i] != 0; i++) bytes += (char)array.v[(size_t)i];
  if (codepage == CP_UTF8) return MqlString(mql_from_utf8(bytes));
  std::u16string o;
  for (unsigned char c : bytes) o += (char16_t)c;
  return MqlString(o);
}

std::string mql_format(const char *where, const std::string &fmt, const std::vector<MqlFmtArg> &args) {
  std::string out;
  size_t ai = 0;
  for (size_t i = 0; i < fmt.size(); i++) {
    if (fmt[i] != '%') { out += fmt[i]; continue; }
    if (i + 1 < fmt.size() && fmt[i + 1] == '%') { out += '%'; i++; continue; }
    std::string spec = "%";
    size_t j = i + 1;
    while (j < fmt.size() && strchr("-+ #0", fmt[j])) spec += fmt[j++];
    while (j < fmt.size() && isdigit((unsigned char)fmt[j])) spec += fmt[j++];
    if (j < fmt.size() && fmt[j] == '.') { spec += fmt[j++]; while (j < fmt.size() && isdigit((unsigned char)fmt[j])) spec += fmt[j++]; }
    if (fmt.compare(j, 3, "I64") == 0) j += 3;
    else while (j < fmt.size() && (fmt[j] == 'l' || fmt[j] == 'h')) j++;
    if (j >= fmt.size()) break;
    char type = fmt[j];
    i = j;
    if (ai >= args.size()) { fprintf(stderr, "MQL5 runtime: %s has fewer arguments than conversions in \"%s\"\n", where, fmt.c_str()); abort(); }
    const MqlFmtArg &a = args[ai++];
    char buf[1024];
    switch (type) {
      case 'd': case 'i':
        snprintf(buf, sizeof buf, (spec + "lld").c_str(), a.kind == MqlFmtArg::F64 ? (long long)a.d : a.i);
        break;
      case 'u': case 'x': case 'X': case 'o':
        snprintf(buf, sizeof buf, (spec + "ll" + type).c_str(), a.kind == MqlFmtArg::F64 ? (unsigned long long)a.d : a.u);
        break;
      case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
        snprintf(buf, sizeof buf, (spec + type).c_str(), a.kind == MqlFmtArg::F64 ? a.d : a.kind == MqlFmtArg::U64 ? (double)a.u : (double)a.i);
        break;
      case 's':
        out += a.kind == MqlFmtArg::STR ? a.s : std::to_string(a.i);
        continue;
      case 'c':
        out += (char)a.i;
        continue;
      default:
        fprintf(stderr, "MQL5 runtime: %s conversion %%%c not supported by the shim\n", where, type);
        abort();
    }
    out += buf;
  }
  return out;
}

// ------------------------------------------------------------------------------------------ clocks
static struct timespec g_t0;
static long g_timerResUs = 15625;  // Windows default clock interrupt: 15.625 ms
static volatile sig_atomic_t g_stop = 0;

static long real_us() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (t.tv_sec - g_t0.tv_sec) * 1000000L + (t.tv_nsec - g_t0.tv_nsec) / 1000L;
}
static void sleep_us(long us) {
  if (us <= 0) return;
  struct timespec t = {us / 1000000L, (us % 1000000L) * 1000L};
  nanosleep(&t, nullptr);
}
// GetTickCount64 advances in steps of the system clock interrupt (GetTickCount is not finer than it)
ulong GetTickCount64() { return 86400000ULL + (ulong)((real_us() / g_timerResUs) * g_timerResUs / 1000); }
uint GetTickCount() { return (uint)GetTickCount64(); }
void Sleep(int ms) { sleep_us((long)ms * 1000); }

static uint g_rand = 1;
void MathSrand(uint seed) { g_rand = seed; }
int MathRand() { g_rand = g_rand * 214013u + 2531011u; return (int)((g_rand >> 16) & 0x7fff); }

const char *mql_input_raw(const char *name) {
  std::string k = std::string("MQL_INPUT_") + name;
  return getenv(k.c_str());
}

void mql_print_line(const std::string &s) {
  printf("%ld %s\n", real_us() / 1000, s.c_str());
  fflush(stdout);
}

// ------------------------------------------------------------------------------------------ broker
struct BookState { long utc; std::vector<MqlBookInfo> rows; };
struct Sym {
  std::string name, basis, desc;
  int digits = 5, bookDepth = 0, calc = 0, chart = 0;
  double point = 0.00001, tickSize = 0.00001, tickValue = 1, contract = 1, volStep = 0.01;
  bool selected = false, book = false;
  std::vector<MqlTick> ticks;
  std::vector<long> utc;      // arrival time (UTC ms) of each tick on the virtual clock
  size_t visible = 0;         // ticks arrived so far
  size_t notifiedTick = 0;    // for OnTick coalescing
  long localFrom = LONG_MIN;  // broker ms: older ticks are on the trade server, not yet in the terminal
  long syncStartUs = -1;
  bool synced = false;
  std::vector<BookState> books;
  size_t bookIdx = 0;         // books[0 .. bookIdx) arrived
};
static std::vector<Sym> g_syms;
static std::map<std::string, size_t> g_symIdx;
static long g_startUtc = 0;
static double g_speed = 1;
static std::vector<std::pair<long, long>> g_offsets;  // (from UTC ms, offset s)
static std::string g_company = "Shim Broker Ltd", g_server = "ShimBroker-Demo";
static long g_login = 1234567, g_build = 4620;
static long g_syncMs = 0, g_syncCapMs = 45000;
static std::vector<std::string> g_bookEvents;
static std::string g_chart;

static long virt_utc_ms() { return g_startUtc + (long)((double)real_us() / 1000.0 * g_speed); }
static long offset_at(long utc) {
  long off = g_offsets.empty() ? 0 : g_offsets[0].second;
  for (auto &o : g_offsets) if (o.first <= utc) off = o.second;
  return off;
}
// Move every symbol's arrival cursor to the virtual now; queue book events for subscribed symbols.
static void advance() {
  long now = virt_utc_ms();
  for (auto &s : g_syms) {
    while (s.visible < s.ticks.size() && s.utc[s.visible] <= now) s.visible++;
    while (s.bookIdx < s.books.size() && s.books[s.bookIdx].utc <= now) {
      s.bookIdx++;
      if (s.book) g_bookEvents.push_back(s.name);
    }
  }
}
static Sym *find_sym(const MqlString &name) {
  auto it = g_symIdx.find(name.utf8());
  return it == g_symIdx.end() ? nullptr : &g_syms[it->second];
}

datetime TimeGMT() { return virt_utc_ms() / 1000; }
datetime TimeLocal() { return TimeGMT(); }
datetime TimeTradeServer() { long u = virt_utc_ms(); return (u + offset_at(u) * 1000) / 1000; }
datetime TimeCurrent() {
  advance();
  long best = 0;
  for (auto &s : g_syms) if (s.visible) best = std::max(best, s.ticks[s.visible - 1].time_msc);
  return best ? best / 1000 : TimeTradeServer();
}

MqlString EnumToString(ENUM_SYMBOL_CHART_MODE v) { return v == SYMBOL_CHART_MODE_LAST ? "SYMBOL_CHART_MODE_LAST" : "SYMBOL_CHART_MODE_BID"; }
MqlString EnumToString(ENUM_SYMBOL_CALC_MODE v) {
  switch (v) {
    case SYMBOL_CALC_MODE_FOREX: return "SYMBOL_CALC_MODE_FOREX";
    case SYMBOL_CALC_MODE_FOREX_NO_LEVERAGE: return "SYMBOL_CALC_MODE_FOREX_NO_LEVERAGE";
    case SYMBOL_CALC_MODE_FUTURES: return "SYMBOL_CALC_MODE_FUTURES";
    case SYMBOL_CALC_MODE_CFD: return "SYMBOL_CALC_MODE_CFD";
    case SYMBOL_CALC_MODE_CFDINDEX: return "SYMBOL_CALC_MODE_CFDINDEX";
    case SYMBOL_CALC_MODE_CFDLEVERAGE: return "SYMBOL_CALC_MODE_CFDLEVERAGE";
    case SYMBOL_CALC_MODE_EXCH_STOCKS: return "SYMBOL_CALC_MODE_EXCH_STOCKS";
    case SYMBOL_CALC_MODE_EXCH_FUTURES: return "SYMBOL_CALC_MODE_EXCH_FUTURES";
    case SYMBOL_CALC_MODE_EXCH_FUTURES_FORTS: return "SYMBOL_CALC_MODE_EXCH_FUTURES_FORTS";
  }
  return "SYMBOL_CALC_MODE_" + IntegerToString((long)v);
}
MqlString EnumToString(ENUM_BOOK_TYPE v) {
  switch (v) {
    case BOOK_TYPE_SELL: return "BOOK_TYPE_SELL";
    case BOOK_TYPE_BUY: return "BOOK_TYPE_BUY";
    case BOOK_TYPE_SELL_MARKET: return "BOOK_TYPE_SELL_MARKET";
    case BOOK_TYPE_BUY_MARKET: return "BOOK_TYPE_BUY_MARKET";
  }
  return "";
}

int SymbolsTotal(bool selected) {
  int n = 0;
  for (auto &s : g_syms) if (!selected || s.selected) n++;
  return n;
}
MqlString SymbolName(int pos, bool selected) {
  int n = 0;
  for (auto &s : g_syms) if (!selected || s.selected) { if (n == pos) return MqlString(s.name.c_str()); n++; }
  return MqlString();
}
bool SymbolSelect(const MqlString &name, bool select) {
  Sym *s = find_sym(name);
  if (!s) { _LastError = ERR_MARKET_UNKNOWN_SYMBOL; return false; }
  s->selected = select;
  return true;
}
long SymbolInfoInteger(const MqlString &name, ENUM_SYMBOL_INFO_INTEGER prop) {
  Sym *s = find_sym(name);
  if (!s) { _LastError = ERR_MARKET_UNKNOWN_SYMBOL; return 0; }
  switch (prop) {
    case SYMBOL_DIGITS: return s->digits;
    case SYMBOL_TICKS_BOOKDEPTH: return s->bookDepth;
    case SYMBOL_TRADE_CALC_MODE: return s->calc;
    case SYMBOL_CHART_MODE: return s->chart;
    case SYMBOL_TIME_MSC: advance(); return s->visible ? s->ticks[s->visible - 1].time_msc : 0;
    case SYMBOL_SELECT: case SYMBOL_VISIBLE: return s->selected;
  }
  return 0;
}
double SymbolInfoDouble(const MqlString &name, ENUM_SYMBOL_INFO_DOUBLE prop) {
  Sym *s = find_sym(name);
  if (!s) { _LastError = ERR_MARKET_UNKNOWN_SYMBOL; return 0; }
  switch (prop) {
    case SYMBOL_POINT: return s->point;
    case SYMBOL_TRADE_TICK_SIZE: return s->tickSize;
    case SYMBOL_TRADE_TICK_VALUE: return s->tickValue;
    case SYMBOL_TRADE_CONTRACT_SIZE: return s->contract;
    case SYMBOL_VOLUME_STEP: case SYMBOL_VOLUME_MIN: return s->volStep;
    case SYMBOL_BID: advance(); return s->visible ? s->ticks[s->visible - 1].bid : 0;
    case SYMBOL_ASK: advance(); return s->visible ? s->ticks[s->visible - 1].ask : 0;
  }
  return 0;
}
MqlString SymbolInfoString(const MqlString &name, ENUM_SYMBOL_INFO_STRING prop) {
  Sym *s = find_sym(name);
  if (!s) { _LastError = ERR_MARKET_UNKNOWN_SYMBOL; return MqlString(); }
  switch (prop) {
    case SYMBOL_BASIS: return MqlString(s->basis.c_str());
    case SYMBOL_DESCRIPTION: return MqlString(s->desc.c_str());
    case SYMBOL_PATH: return MqlString(("Shim\\" + s->name).c_str());
  }
  return MqlString();
}
long AccountInfoInteger(ENUM_ACCOUNT_INFO_INTEGER) { return g_login; }
MqlString AccountInfoString(ENUM_ACCOUNT_INFO_STRING p) { return MqlString((p == ACCOUNT_SERVER ? g_server : g_company).c_str()); }
long TerminalInfoInteger(ENUM_TERMINAL_INFO_INTEGER) { return g_build; }

// ------------------------------------------------------------------------------------------ ticks
static bool tick_matches(const MqlTick &t, uint flags) {
  if (flags == (uint)COPY_TICKS_INFO) return (t.flags & (TICK_FLAG_BID | TICK_FLAG_ASK)) != 0;
  if (flags == (uint)COPY_TICKS_TRADE) return (t.flags & (TICK_FLAG_LAST | TICK_FLAG_VOLUME)) != 0;
  return true;
}
// A request that reaches below what the terminal holds locally starts (or waits for) the symbol's
// history synchronisation. In an EA the call blocks up to 45 s (the EA thread stops); on timeout it
// returns what is local with ERR_HISTORY_TIMEOUT and the synchronisation continues.
static bool sync_history(Sym &s) {
  if (s.synced || g_syncMs <= 0) { s.synced = true; return true; }
  long now = real_us();
  if (s.syncStartUs < 0) s.syncStartUs = now;
  long doneAt = s.syncStartUs + g_syncMs * 1000;
  long waitUntil = std::min(doneAt, now + g_syncCapMs * 1000);
  sleep_us(waitUntil - now);
  if (real_us() >= doneAt) { s.synced = true; return true; }
  _LastError = ERR_HISTORY_TIMEOUT;
  return false;
}
static size_t local_first(const Sym &s) {
  if (s.synced) return 0;
  size_t i = 0;
  while (i < s.ticks.size() && s.ticks[i].time_msc < s.localFrom) i++;
  return i;
}
static void fill(MqlArray<MqlTick> &out, const std::vector<const MqlTick *> &src) {
  if (out.fixed && (int)src.size() > out.size()) _LastError = ERR_HISTORY_SMALL_BUFFER;
  if (!out.fixed) out.v.resize(src.size());
  for (size_t i = 0; i < src.size() && i < out.v.size(); i++) { out.v[i] = *src[i]; out.v[i].time = src[i]->time_msc / 1000; }
}

static long g_copyTicksCalls = 0;  // reported at stop: how often the EA asked for ticks
int CopyTicks(const MqlString &symbol, MqlArray<MqlTick> &ticks, uint flags, ulong from, uint count) {
  g_copyTicksCalls++;
  Sym *s = find_sym(symbol);
  if (!s) { _LastError = ERR_MARKET_UNKNOWN_SYMBOL; return -1; }
  advance();
  std::vector<const MqlTick *> out;
  if (from == 0) {
    // "the last count ticks" (MQL5 reference); without count at most 2000
    size_t want = count ? count : 2000;
    size_t lo = local_first(*s);
    long i = (long)s->visible - 1;
    for (; i >= (long)lo && out.size() < want; i--) if (tick_matches(s->ticks[(size_t)i], flags)) out.push_back(&s->ticks[(size_t)i]);
    if (out.size() < want && lo > 0) {
      bool ok = sync_history(*s);
      advance();
      out.clear();
      lo = local_first(*s);
      for (i = (long)s->visible - 1; i >= (long)lo && out.size() < want; i--) if (tick_matches(s->ticks[(size_t)i], flags)) out.push_back(&s->ticks[(size_t)i]);
      (void)ok;
    }
    std::reverse(out.begin(), out.end());
  } else {
    size_t want = count ? count : 2000;
    if ((long)from < s->localFrom && !s->synced) sync_history(*s);
    advance();
    size_t lo = local_first(*s);
    // first tick with time_msc >= from (binary search; ticks are in time order)
    size_t a = lo, b = s->visible;
    while (a < b) { size_t m = (a + b) / 2; if ((ulong)s->ticks[m].time_msc < from) a = m + 1; else b = m; }
    for (size_t k = a; k < s->visible && out.size() < want; k++) if (tick_matches(s->ticks[k], flags)) out.push_back(&s->ticks[k]);
  }
  fill(ticks, out);
  return (int)out.size();
}

int CopyTicksRange(const MqlString &symbol, MqlArray<MqlTick> &ticks, uint flags, ulong from_msc, ulong to_msc) {
  Sym *s = find_sym(symbol);
  if (!s) { _LastError = ERR_MARKET_UNKNOWN_SYMBOL; return -1; }
  advance();
  if ((long)from_msc < s->localFrom && !s->synced) sync_history(*s);
  advance();
  size_t lo = local_first(*s);
  std::vector<const MqlTick *> out;
  size_t a = lo, b = s->visible;
  while (a < b) { size_t m = (a + b) / 2; if ((ulong)s->ticks[m].time_msc < from_msc) a = m + 1; else b = m; }
  for (size_t k = a; k < s->visible && (to_msc == 0 || (ulong)s->ticks[k].time_msc <= to_msc); k++)
    if (tick_matches(s->ticks[k], flags)) out.push_back(&s->ticks[k]);
  if (out.empty() && (s->ticks.empty() || (to_msc && (long)to_msc < s->ticks[0].time_msc))) _LastError = ERR_HISTORY_NOT_FOUND;
  fill(ticks, out);
  return (int)out.size();
}

bool SymbolInfoTick(const MqlString &symbol, MqlTick &tick) {
  Sym *s = find_sym(symbol);
  if (!s) { _LastError = ERR_MARKET_UNKNOWN_SYMBOL; return false; }
  advance();
  if (!s->visible) return false;
  tick = s->ticks[s->visible - 1];
  return true;
}

// ------------------------------------------------------------------------------------------ book
bool MarketBookAdd(const MqlString &symbol) {
  Sym *s = find_sym(symbol);
  if (!s || s->books.empty()) { _LastError = ERR_BOOKS_CANNOT_ADD; return false; }
  s->book = true;
  s->selected = true;
  return true;
}
bool MarketBookRelease(const MqlString &symbol) {
  Sym *s = find_sym(symbol);
  if (!s) return false;
  s->book = false;
  return true;
}
// the book as of the call, not as of the event that announced a change
bool MarketBookGet(const MqlString &symbol, MqlArray<MqlBookInfo> &book) {
  Sym *s = find_sym(symbol);
  if (!s || !s->book) { _LastError = ERR_BOOKS_CANNOT_GET; return false; }
  advance();
  if (s->bookIdx == 0) { book.v.clear(); return true; }
  book.v = s->books[s->bookIdx - 1].rows;
  return true;
}

// ------------------------------------------------------------------------------------------ timer
static long g_timerPeriodUs = 0, g_nextTimerUs = 0;
bool EventSetMillisecondTimer(int ms) {
  if (ms <= 0) return false;
  // a Windows timer fires on clock interrupts: the period is rounded up to the resolution
  long p = (long)ms * 1000;
  g_timerPeriodUs = ((p + g_timerResUs - 1) / g_timerResUs) * g_timerResUs;
  g_nextTimerUs = ((real_us() + g_timerPeriodUs) / g_timerResUs) * g_timerResUs;
  return true;
}
bool EventSetTimer(int seconds) { return EventSetMillisecondTimer(seconds * 1000); }
void EventKillTimer() { g_timerPeriodUs = 0; }

// ------------------------------------------------------------------------------------------ sockets
struct Sock { int fd = -1; bool connected = false; bool speculative = true; uint rcvMs = 0; uint sndMs = 0; };
static std::map<int, Sock> g_socks;
static int g_nextSock = 1;

int SocketCreate(uint) {
  if (g_socks.size() >= 128) { _LastError = ERR_NETSOCKET_TOO_MANY_OPENED; return INVALID_HANDLE; }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) { _LastError = ERR_NETSOCKET_IO_ERROR; return INVALID_HANDLE; }
  int h = g_nextSock++;
  g_socks[h].fd = fd;
  return h;
}
static Sock *sock_of(int h) {
  auto it = g_socks.find(h);
  if (it == g_socks.end()) { _LastError = ERR_NETSOCKET_INVALIDHANDLE; return nullptr; }
  return &it->second;
}
bool SocketClose(int h) {
  Sock *s = sock_of(h);
  if (!s) return false;
  close(s->fd);
  g_socks.erase(h);
  return true;
}
static void set_timeouts(Sock &s) {
  // MQL5 default is "no timeout": block forever (a zero timeval means the same to the kernel)
  struct timeval r = {(long)(s.rcvMs / 1000), (long)(s.rcvMs % 1000) * 1000}, w = {(long)(s.sndMs / 1000), (long)(s.sndMs % 1000) * 1000};
  setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &r, sizeof r);
  setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &w, sizeof w);
}
bool SocketConnect(int h, const MqlString &server, uint port, uint timeout_ms) {
  Sock *s = sock_of(h);
  if (!s) return false;
  struct addrinfo hints = {}, *res = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(server.utf8().c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) { _LastError = ERR_NETSOCKET_CANNOT_CONNECT; return false; }
  int fl = fcntl(s->fd, F_GETFL, 0);
  fcntl(s->fd, F_SETFL, fl | O_NONBLOCK);
  int rc = connect(s->fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc < 0 && errno == EINPROGRESS) {
    struct pollfd p = {s->fd, POLLOUT, 0};
    if (poll(&p, 1, (int)timeout_ms) == 1) {
      int err = 0;
      socklen_t l = sizeof err;
      getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
      rc = err ? -1 : 0;
    } else rc = -1;
  }
  fcntl(s->fd, F_SETFL, fl);
  if (rc < 0) { _LastError = ERR_NETSOCKET_CANNOT_CONNECT; return false; }
  int one = 1;
  setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  s->connected = true;
  s->speculative = true;
  return true;
}
static bool peer_closed(Sock &s) {
  char c;
  ssize_t r = recv(s.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (r == 0) return true;
  if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return true;
  return false;
}
bool SocketIsConnected(int h) {
  Sock *s = sock_of(h);
  if (!s) return false;
  if (s->connected && peer_closed(*s)) s->connected = false;
  return s->connected;
}
static bool g_idleReadable = false;
// Bytes readable; with an empty buffer the first call answers a speculative 1 (MQL5 book 7.5.6)
uint SocketIsReadable(int h) {
  Sock *s = sock_of(h);
  if (!s) return 0;
  int n = 0;
  if (ioctl(s->fd, FIONREAD, &n) < 0) { _LastError = ERR_NETSOCKET_IO_ERROR; return 0; }
  if (n > 0) { s->speculative = false; return (uint)n; }
  if (peer_closed(*s)) { s->connected = false; _LastError = ERR_NETSOCKET_IO_ERROR; return 0; }
  if (s->speculative) { s->speculative = false; return 1; }
  return g_idleReadable ? 1 : 0;  // MQL_IDLE_READABLE: an idle socket keeps answering a speculative 1
}
bool SocketIsWritable(int h) {
  Sock *s = sock_of(h);
  return s && s->connected;
}
bool SocketTimeouts(int h, uint snd, uint rcv) {
  Sock *s = sock_of(h);
  if (!s) return false;
  s->sndMs = snd;
  s->rcvMs = rcv;
  set_timeouts(*s);
  return true;
}
int SocketRead(int h, MqlArray<uchar> &buffer, uint maxlen, uint timeout_ms) {
  Sock *s = sock_of(h);
  if (!s) return -1;
  if (timeout_ms == 0) timeout_ms = 120000;  // 0 means the 120 s default
  struct pollfd p = {s->fd, POLLIN, 0};
  int pr = poll(&p, 1, (int)timeout_ms);
  if (pr == 0) return -1;  // timeout: -1 (the reference does not say which error it leaves)
  std::vector<uchar> tmp(maxlen ? maxlen : 1);
  ssize_t r = recv(s->fd, tmp.data(), tmp.size(), 0);
  if (r <= 0) {
    if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) { s->connected = false; _LastError = ERR_NETSOCKET_IO_ERROR; }
    return -1;
  }
  if (!buffer.fixed) buffer.v.resize((size_t)r);
  for (ssize_t i = 0; i < r && (size_t)i < buffer.v.size(); i++) buffer.v[(size_t)i] = tmp[(size_t)i];
  return (int)r;
}
int SocketSend(int h, const MqlArray<uchar> &buffer, uint len) {
  Sock *s = sock_of(h);
  if (!s) return -1;
  if (len > (uint)buffer.size()) len = (uint)buffer.size();
  ssize_t w = send(s->fd, buffer.v.data(), len, MSG_NOSIGNAL);
  if (getenv("MQL_TRACE_BOOK") && len > 12 && memcmp(buffer.v.data(), "{\"t\":\"book\"", 11) == 0) { printf("%ld [shim] trace book sent\n", real_us() / 1000); fflush(stdout); }
  if (w < 0) { s->connected = false; _LastError = ERR_NETSOCKET_IO_ERROR; return -1; }
  return (int)w;
}

// ------------------------------------------------------------------------------------------ sha-256
static const uint32_t K256[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
static inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
static std::vector<uchar> sha256(const std::vector<uchar> &msg) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::vector<uchar> m(msg);
  uint64_t bits = (uint64_t)msg.size() * 8;
  m.push_back(0x80);
  while (m.size() % 64 != 56) m.push_back(0);
  for (int i = 7; i >= 0; i--) m.push_back((uchar)(bits >> (i * 8)));
  for (size_t off = 0; off < m.size(); off += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++) w[i] = (uint32_t)m[off + 4 * i] << 24 | (uint32_t)m[off + 4 * i + 1] << 16 | (uint32_t)m[off + 4 * i + 2] << 8 | m[off + 4 * i + 3];
    for (int i = 16; i < 64; i++) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3), s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
      uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25), ch = (e & f) ^ (~e & g), t1 = hh + S1 + ch + K256[i] + w[i];
      uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22), mj = (a & b) ^ (a & c) ^ (b & c), t2 = S0 + mj;
      hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  std::vector<uchar> out(32);
  for (int i = 0; i < 8; i++) for (int j = 0; j < 4; j++) out[(size_t)(4 * i + j)] = (uchar)(h[i] >> (24 - 8 * j));
  return out;
}
// CRYPT_HASH_SHA256 ignores the key (it is a plain hash, not an HMAC)
int CryptEncode(int method, const MqlArray<uchar> &data, const MqlArray<uchar> &, MqlArray<uchar> &result) {
  if (method != CRYPT_HASH_SHA256) { fprintf(stderr, "MQL5 runtime: CryptEncode method %d not supported by the shim\n", method); abort(); }
  std::vector<uchar> h = sha256(data.v);
  if (!result.fixed) result.v = h;
  else for (size_t i = 0; i < h.size() && i < result.v.size(); i++) result.v[i] = h[i];
  return 32;
}

// ------------------------------------------------------------------------------------------ tape
static std::vector<std::string> split_tabs(char *line) {
  std::vector<std::string> f;
  char *p = line;
  for (;;) {
    char *t = strchr(p, '\t');
    if (!t) { size_t n = strlen(p); while (n && (p[n - 1] == '\n' || p[n - 1] == '\r')) p[--n] = 0; f.emplace_back(p); break; }
    *t = 0;
    f.emplace_back(p);
    p = t + 1;
  }
  return f;
}
static void load_tape(const char *path) {
  FILE *fp = fopen(path, "r");
  if (!fp) { fprintf(stderr, "shim: cannot open broker tape %s\n", path); exit(2); }
  static char line[1 << 20];
  while (fgets(line, sizeof line, fp)) {
    if (line[0] == 't' && line[1] == '\t') {
      // t sym utc time_msc bid ask last volume volume_real flags (hot path: strtod/strtol)
      char *p = line + 2, *e;
      size_t si = (size_t)strtol(p, &e, 10);
      Sym &s = g_syms.at(si);
      MqlTick t = {};
      long utc = strtol(e + 1, &e, 10);
      t.time_msc = strtol(e + 1, &e, 10);
      t.bid = strtod(e + 1, &e);
      t.ask = strtod(e + 1, &e);
      t.last = strtod(e + 1, &e);
      t.volume = strtoull(e + 1, &e, 10);
      t.volume_real = strtod(e + 1, &e);
      t.flags = (uint)strtoul(e + 1, &e, 10);
      t.time = t.time_msc / 1000;
      s.ticks.push_back(t);
      s.utc.push_back(utc);
      continue;
    }
    std::vector<std::string> f = split_tabs(line);
    if (f.empty() || f[0].empty() || f[0][0] == '#') continue;
    if (f[0] == "clock") { g_startUtc = atol(f[1].c_str()); g_speed = atof(f[2].c_str()); }
    else if (f[0] == "offset") g_offsets.push_back({atol(f[1].c_str()), atol(f[2].c_str())});
    else if (f[0] == "account") { g_company = f[1]; g_server = f[2]; g_login = atol(f[3].c_str()); g_build = atol(f[4].c_str()); }
    else if (f[0] == "sym") {
      Sym s;
      s.name = f[1]; s.digits = atoi(f[2].c_str()); s.point = atof(f[3].c_str()); s.tickSize = atof(f[4].c_str());
      s.tickValue = atof(f[5].c_str()); s.contract = atof(f[6].c_str()); s.volStep = atof(f[7].c_str()); s.calc = atoi(f[8].c_str());
      s.chart = atoi(f[9].c_str()); s.bookDepth = atoi(f[10].c_str()); s.basis = f[11]; s.desc = f[12];
      s.localFrom = f[13].empty() ? LONG_MIN : atol(f[13].c_str());
      s.selected = f[14] == "1";
      g_symIdx[s.name] = g_syms.size();
      g_syms.push_back(s);
    } else if (f[0] == "b") {
      // b sym utc type:price:volume,...
      Sym &s = g_syms.at((size_t)atol(f[1].c_str()));
      BookState b;
      b.utc = atol(f[2].c_str());
      if (f.size() > 3 && !f[3].empty()) {
        char *p = &f[3][0];
        while (*p) {
          MqlBookInfo r = {};
          r.type = (ENUM_BOOK_TYPE)strtol(p, &p, 10);
          r.price = strtod(p + 1, &p);
          r.volume_real = strtod(p + 1, &p);
          r.volume = (long)r.volume_real;
          b.rows.push_back(r);
          if (*p == ',') p++;
        }
      }
      s.books.push_back(b);
    } else { fprintf(stderr, "shim: unknown tape record \"%s\"\n", f[0].c_str()); exit(2); }
  }
  fclose(fp);
  std::sort(g_offsets.begin(), g_offsets.end());
}

// ------------------------------------------------------------------------------------------ main
static void on_signal(int) { g_stop = 1; }
// the EA thread held by one handler (blocking history sync, big sends): said, so a test can see it
static void slow(const char *what, long startUs) {
  long us = real_us() - startUs;
  if (us >= (getenv("MQL_TRACE_BOOK") ? 10000 : 50000)) { printf("%ld [shim] slow %s: %ld ms\n", real_us() / 1000, what, us / 1000); fflush(stdout); }
}
static long env_long(const char *k, long def) { const char *v = getenv(k); return v && *v ? atol(v) : def; }

int main() {
  clock_gettime(CLOCK_MONOTONIC, &g_t0);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, nullptr, _IOLBF, 1 << 16);
  g_timerResUs = env_long("MQL_TIMER_RES_US", 15625);
  g_syncMs = env_long("MQL_HISTORY_SYNC_MS", 0);
  g_syncCapMs = env_long("MQL_HISTORY_WAIT_CAP_MS", 45000);
  long runMs = env_long("MQL_RUN_MS", 0);
  const char *tape = getenv("MQL_BROKER_TAPE");
  if (!tape) { fprintf(stderr, "shim: set MQL_BROKER_TAPE\n"); return 2; }
  load_tape(tape);
  {
    // wall-clock time of real_us() == 0, so a harness can place virtual-clock events in real time
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    long nowEpochMs = rt.tv_sec * 1000L + rt.tv_nsec / 1000000L;
    printf("%ld [shim] t0 %ld\n", real_us() / 1000, nowEpochMs - real_us() / 1000);
    fflush(stdout);
  }
  const char *chart = getenv("MQL_CHART_SYMBOL");
  g_chart = chart ? chart : (g_syms.empty() ? "" : g_syms[0].name);
  _Symbol = MqlString(g_chart.c_str());
  // the chart symbol is in Market Watch
  if (g_symIdx.count(g_chart)) g_syms[g_symIdx[g_chart]].selected = true;
  advance();
  for (auto &s : g_syms) s.notifiedTick = s.visible;
  int rc = mql_ea_OnInit();
  printf("%ld [shim] OnInit returned %d\n", real_us() / 1000, rc);
  fflush(stdout);
  if (rc != INIT_SUCCEEDED) return 3;
  long timerCalls = 0, bookCalls = 0, tickCalls = 0;
  // MQL_STALE_LAST_ERROR: every handler starts with this code in _LastError, as after any earlier call
  // that failed with it (GetLastError is the last error of any function until ResetLastError)
  long staleError = env_long("MQL_STALE_LAST_ERROR", 0);
  g_idleReadable = env_long("MQL_IDLE_READABLE", 0) != 0;
  while (!g_stop && (runMs <= 0 || real_us() < runMs * 1000)) {
    advance();
    if (mql_ea_has_OnBookEvent && !g_bookEvents.empty()) {
      std::string sym = g_bookEvents.front();
      g_bookEvents.erase(g_bookEvents.begin());
      bookCalls++;
      long h0 = real_us();
      if (staleError) _LastError = (int)staleError;
      mql_ea_OnBookEvent(MqlString(sym.c_str()));
      slow("OnBookEvent", h0);
      continue;
    }
    if (!mql_ea_has_OnBookEvent) g_bookEvents.clear();
    long now = real_us();
    if (g_timerPeriodUs > 0 && now >= g_nextTimerUs) {
      // timer events coalesce: one call however late, next one on the following interrupt after a period
      g_nextTimerUs = ((now + g_timerPeriodUs) / g_timerResUs) * g_timerResUs;
      timerCalls++;
      long h0 = real_us();
      if (staleError) _LastError = (int)staleError;
      mql_ea_OnTimer();
      slow("OnTimer", h0);
      continue;
    }
    if (mql_ea_has_OnTick && g_symIdx.count(g_chart)) {
      Sym &c = g_syms[g_symIdx[g_chart]];
      if (c.visible > c.notifiedTick) {
        c.notifiedTick = c.visible;  // NewTick events coalesce
        tickCalls++;
        long h0 = real_us();
        if (staleError) _LastError = (int)staleError;
        mql_ea_OnTick();
        slow("OnTick", h0);
        continue;
      }
    }
    long wake = g_timerPeriodUs > 0 ? g_nextTimerUs : now + 1000;
    sleep_us(std::min(wake - now, 1000L));
  }
  mql_ea_OnDeinit(REASON_REMOVE);
  printf("%ld [shim] stopped: OnTimer %ld, OnTick %ld, OnBookEvent %ld, CopyTicks %ld\n", real_us() / 1000, timerCalls, tickCalls, bookCalls, g_copyTicksCalls);
  fflush(stdout);
  return 0;
}
