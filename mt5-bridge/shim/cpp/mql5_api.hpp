// The MQL5 terminal API the EA calls, as the shim provides it: sockets (POSIX TCP), CopyTicks /
// CopyTicksRange over a recorded broker tape (with history synchronisation that blocks the EA thread),
// Depth of Market, timers, clocks (GetTickCount64 at the Windows tick resolution, broker server time
// with a configurable UTC offset / DST switch), symbol and account properties, CryptEncode (SHA-256).
// Numeric codes are the MQL5 reference's; enum values the EA only passes through EnumToString.
#pragma once
#include "mql5_core.hpp"

struct MqlTick {
  datetime time;
  double bid;
  double ask;
  double last;
  ulong volume;
  long time_msc;
  uint flags;
  double volume_real;
};

enum ENUM_BOOK_TYPE { BOOK_TYPE_SELL = 1, BOOK_TYPE_BUY = 2, BOOK_TYPE_SELL_MARKET = 3, BOOK_TYPE_BUY_MARKET = 4 };
struct MqlBookInfo {
  ENUM_BOOK_TYPE type;
  double price;
  long volume;
  double volume_real;
};

#define TICK_FLAG_BID 2
#define TICK_FLAG_ASK 4
#define TICK_FLAG_LAST 8
#define TICK_FLAG_VOLUME 16
#define TICK_FLAG_BUY 32
#define TICK_FLAG_SELL 64
#define COPY_TICKS_INFO 1
#define COPY_TICKS_TRADE 2
#define COPY_TICKS_ALL (-1)

#define INIT_SUCCEEDED 0
#define INIT_FAILED 1
#define INIT_PARAMETERS_INCORRECT 2
#define REASON_REMOVE 1

#define ERR_NOT_ENOUGH_MEMORY 4004
#define ERR_MARKET_UNKNOWN_SYMBOL 4301
#define ERR_MARKET_NOT_SELECTED 4302
#define ERR_HISTORY_NOT_FOUND 4401
#define ERR_HISTORY_TIMEOUT 4403
#define ERR_HISTORY_SMALL_BUFFER 4407
#define ERR_BOOKS_CANNOT_ADD 4901
#define ERR_BOOKS_CANNOT_GET 4903
#define ERR_NETSOCKET_INVALIDHANDLE 5270
#define ERR_NETSOCKET_TOO_MANY_OPENED 5271
#define ERR_NETSOCKET_CANNOT_CONNECT 5272
#define ERR_NETSOCKET_IO_ERROR 5273

#define SOCKET_DEFAULT 0
#define CRYPT_HASH_SHA256 6

enum ENUM_SYMBOL_INFO_INTEGER { SYMBOL_DIGITS, SYMBOL_TICKS_BOOKDEPTH, SYMBOL_TRADE_CALC_MODE, SYMBOL_CHART_MODE, SYMBOL_TIME_MSC, SYMBOL_SELECT, SYMBOL_VISIBLE };
enum ENUM_SYMBOL_INFO_DOUBLE { SYMBOL_POINT, SYMBOL_TRADE_TICK_SIZE, SYMBOL_TRADE_TICK_VALUE, SYMBOL_TRADE_CONTRACT_SIZE, SYMBOL_VOLUME_STEP, SYMBOL_VOLUME_MIN, SYMBOL_BID, SYMBOL_ASK };
enum ENUM_SYMBOL_INFO_STRING { SYMBOL_BASIS, SYMBOL_DESCRIPTION, SYMBOL_PATH };
enum ENUM_SYMBOL_CHART_MODE { SYMBOL_CHART_MODE_BID = 0, SYMBOL_CHART_MODE_LAST = 1 };
enum ENUM_SYMBOL_CALC_MODE {
  SYMBOL_CALC_MODE_FOREX = 0, SYMBOL_CALC_MODE_FOREX_NO_LEVERAGE = 1, SYMBOL_CALC_MODE_FUTURES = 2, SYMBOL_CALC_MODE_CFD = 3,
  SYMBOL_CALC_MODE_CFDINDEX = 4, SYMBOL_CALC_MODE_CFDLEVERAGE = 5, SYMBOL_CALC_MODE_EXCH_STOCKS = 32, SYMBOL_CALC_MODE_EXCH_FUTURES = 33,
  SYMBOL_CALC_MODE_EXCH_FUTURES_FORTS = 34,
};
enum ENUM_ACCOUNT_INFO_INTEGER { ACCOUNT_LOGIN };
enum ENUM_ACCOUNT_INFO_STRING { ACCOUNT_COMPANY, ACCOUNT_SERVER, ACCOUNT_NAME };
enum ENUM_TERMINAL_INFO_INTEGER { TERMINAL_BUILD };

MqlString EnumToString(ENUM_SYMBOL_CHART_MODE v);
MqlString EnumToString(ENUM_SYMBOL_CALC_MODE v);
MqlString EnumToString(ENUM_BOOK_TYPE v);

// clocks
ulong GetTickCount64();
uint GetTickCount();
datetime TimeCurrent();
datetime TimeTradeServer();
datetime TimeGMT();
datetime TimeLocal();
void Sleep(int ms);

// events
bool EventSetMillisecondTimer(int ms);
bool EventSetTimer(int seconds);
void EventKillTimer();

// symbols, account, terminal
int SymbolsTotal(bool selected);
MqlString SymbolName(int pos, bool selected);
bool SymbolSelect(const MqlString &name, bool select);
long SymbolInfoInteger(const MqlString &name, ENUM_SYMBOL_INFO_INTEGER prop);
double SymbolInfoDouble(const MqlString &name, ENUM_SYMBOL_INFO_DOUBLE prop);
MqlString SymbolInfoString(const MqlString &name, ENUM_SYMBOL_INFO_STRING prop);
long AccountInfoInteger(ENUM_ACCOUNT_INFO_INTEGER prop);
MqlString AccountInfoString(ENUM_ACCOUNT_INFO_STRING prop);
long TerminalInfoInteger(ENUM_TERMINAL_INFO_INTEGER prop);
extern MqlString _Symbol;

// ticks
int CopyTicks(const MqlString &symbol, MqlArray<MqlTick> &ticks, uint flags = (uint)COPY_TICKS_ALL, ulong from = 0, uint count = 0);
int CopyTicksRange(const MqlString &symbol, MqlArray<MqlTick> &ticks, uint flags = (uint)COPY_TICKS_ALL, ulong from_msc = 0, ulong to_msc = 0);
bool SymbolInfoTick(const MqlString &symbol, MqlTick &tick);

// depth of market
bool MarketBookAdd(const MqlString &symbol);
bool MarketBookRelease(const MqlString &symbol);
bool MarketBookGet(const MqlString &symbol, MqlArray<MqlBookInfo> &book);

// sockets
int SocketCreate(uint flags = SOCKET_DEFAULT);
bool SocketClose(int socket);
bool SocketConnect(int socket, const MqlString &server, uint port, uint timeout_receive_ms);
bool SocketIsConnected(int socket);
uint SocketIsReadable(int socket);
bool SocketIsWritable(int socket);
bool SocketTimeouts(int socket, uint timeout_send_ms, uint timeout_receive_ms);
int SocketRead(int socket, MqlArray<uchar> &buffer, uint buffer_maxlen, uint timeout_ms);
int SocketSend(int socket, const MqlArray<uchar> &buffer, uint buffer_len);

// crypto
int CryptEncode(int method, const MqlArray<uchar> &data, const MqlArray<uchar> &key, MqlArray<uchar> &result);
