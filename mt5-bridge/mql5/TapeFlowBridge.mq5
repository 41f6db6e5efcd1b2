//+------------------------------------------------------------------+
//| TapeFlowBridge.mq5 — streams ticks, DOM and history backfill to   |
//| the TapeFlow MT5 bridge (Node) over TCP, protocol v1 (NDJSON).    |
//| Standard MQL5 only, no DLLs. See mt5-bridge/PROTOCOL.md/README.md |
//+------------------------------------------------------------------+
#property copyright   "TapeFlow contributors, MIT"
#property version     "0.11"
#property description "Streams ticks, DOM and backfill to TapeFlow over TCP."
#property description "Add 127.0.0.1 in Tools > Options > Expert Advisors > 'Allow WebRequest for listed URL',"
#property description "otherwise every connect fails with error 5272. Attach to any one chart."

#include <TapeFlow/Hmac.mqh>
#include <TapeFlow/Wire.mqh>

input string InpHost          = "127.0.0.1"; // Bridge host (exactly as on the allowed-URL list)
input ushort InpPort          = 9100;        // Bridge port
input string InpSecret        = "";          // Shared secret (never logged)
input string InpSymbols       = "";          // Symbols, comma separated; empty = all of Market Watch
input int    InpBackfillDays  = 1;           // Days of history the server may request on first contact
input int    InpReplayHours   = 6;           // Resume from the server's cursor only when it is newer than this; else start live (the server requests the hole)
input bool   InpDom           = false;       // Stream Depth of Market snapshots
input int    InpHeartbeatMs   = 1000;        // Heartbeat interval (ms)
input int    InpTimerMs       = 20;          // Pump timer (ms); the Windows timer resolution is ~10-16 ms

#define TF_PROTO        1
#define TF_BATCH        500      // ticks per `ticks` line
#define TF_PUMP_N       5000     // CopyTicks count per round
#define TF_PUMP_ROUNDS  8        // rounds per pass before counting a pump limit
#define TF_CHUNK        2000     // ticks per bf_chunk
#define TF_BF_PASS      500      // backfill ticks per timer pass (the EA thread also serves live ticks and DOM)
#define TF_BF_WINDOW_MS 3600000  // CopyTicksRange window per timer pass
#define TF_MAX_RX       1048576  // server line cap on our side
#define TF_BOOK_MIN_MS  15       // at most one DOM image per symbol per clock interrupt (15.6 ms): the trailing image is then due on the next timer pass
#define TF_BOOK_KEEP_MS 5000     // resend an unchanged image every 5 s
#define TF_BUSY_MS      46000    // announced before a call that may block on history sync (up to 45 s)

struct TfSym
  {
   string            name;
   int               digits;
   int               volDigits;
   long              curMs;      // cursor: last sent time_msc
   int               curN;       // ticks already sent at curMs (= last ord + 1)
   bool              live;       // cursor initialised for this EA session
   long              startMs;    // where this session went live (resume point when the server has none)
   int               startN;
   bool              book;       // MarketBookAdd succeeded
   int               bs;         // book sequence
   string            lastImage;
   ulong             lastBookAt;
   bool              bookDirty;  // an event was throttled: the timer sends the trailing image
   long              seenMsc;    // SYMBOL_TIME_MSC when the pump last caught up
  };

struct TfBackfill
  {
   long              id;
   string            sym;
   long              fromMs, toMs, nextMs, maxTicks, scannedTo;
   int               chunk, sent, retries;
   bool              begun, active, complete, exhausted;
  };

enum TfState { TF_IDLE, TF_CHALLENGE, TF_READY };

TfSym      g_syms[];
TfBackfill g_bf;
TfBackfill g_bfQueue[];
int        g_sock = INVALID_HANDLE;
TfState    g_state = TF_IDLE;
string     g_sid = "";
int        g_conn = 0;
long       g_seq = 0;
uchar      g_rx[];
ulong      g_lastRx = 0, g_lastHb = 0, g_nextConnect = 0;
int        g_backoffStep = 0;
int        g_deadMs = 5000, g_hbMs = 1000;
long       g_announcedOff = LONG_MIN;
int        g_pumpLimits = 0, g_sendStalls = 0;

//--- helpers -----------------------------------------------------------------------------------------

// Broker UTC offset: TimeTradeServer() is the estimated server clock, TimeGMT() the PC's UTC clock;
// rounded to 15 min to remove the seconds of jitter between the two clocks.
long UtcOffset()
  {
   long off = (long)(TimeTradeServer() - TimeGMT());
   return (long)MathRound(off / 900.0) * 900;
  }

string NewSid()
  {
   MathSrand((uint)GetTickCount64() ^ (uint)TimeLocal());
   return StringFormat("%08x%08x", MathRand() * 65536 + MathRand(), (uint)GetTickCount64());
  }

// Send text as UTF-8 without the trailing NUL, looping on partial writes (SocketSend may write less).
bool SendText(const string text)
  {
   if(g_sock == INVALID_HANDLE) return false;
   uchar buf[];
   int len = TfUtf8(text, buf);
   int off = 0;
   ulong t0 = GetTickCount64();
   while(off < len)
     {
      uchar part[];
      ArrayCopy(part, buf, 0, off, len - off);
      int w = SocketSend(g_sock, part, len - off);
      if(w <= 0) { Print("TapeFlow: send failed, error ", GetLastError()); Disconnect("send failed"); return false; }
      off += w;
     }
   if(GetTickCount64() - t0 > 100) g_sendStalls++; // the server is not reading fast enough
   return true;
  }

// One message: {"t":..., "s":<next seq>, <body>}
bool SendMsg(const string type, const string body)
  {
   g_seq++;
   string line = "{\"t\":\"" + type + "\",\"s\":" + IntegerToString(g_seq) + (body == "" ? "" : "," + body) + "}\n";
   return SendText(line);
  }

void Disconnect(const string why)
  {
   if(g_sock != INVALID_HANDLE)
     {
      SocketClose(g_sock); // frees the handle; a new socket is created for every attempt
      g_sock = INVALID_HANDLE;
     }
   if(g_state != TF_IDLE) PrintFormat("TapeFlow: disconnected (%s)", why);
   g_state = TF_IDLE;
   ArrayResize(g_rx, 0);
   g_bf.active = false;        // a cut-off backfill is discarded by the server and re-requested
   ArrayResize(g_bfQueue, 0);
   // jittered exponential backoff: 0.5, 1, 2 ... 30 s, +-20 %
   double base = MathMin(30000.0, 500.0 * MathPow(2, g_backoffStep++));
   g_nextConnect = GetTickCount64() + (ulong)(base * (0.8 + 0.4 * MathRand() / 32767.0));
  }

void Connect()
  {
   g_sock = SocketCreate();
   if(g_sock == INVALID_HANDLE) { Print("TapeFlow: SocketCreate failed, error ", GetLastError()); Disconnect("no socket"); return; }
   ResetLastError();
   if(!SocketConnect(g_sock, InpHost, InpPort, 1000)) // <= 1 s: the EA thread blocks while connecting
     {
      int err = GetLastError();
      if(err == ERR_NETSOCKET_CANNOT_CONNECT)
         PrintFormat("TapeFlow: cannot connect to %s:%d (5272). Is the bridge running, and is %s in "
                     "Tools > Options > Expert Advisors > 'Allow WebRequest for listed URL'?", InpHost, InpPort, InpHost);
      else PrintFormat("TapeFlow: SocketConnect error %d", err);
      Disconnect("connect failed");
      return;
     }
   // the default is to block forever: 2 s for sends, 5 ms for reads (never 0, which means 120 s)
   SocketTimeouts(g_sock, 2000, 5);
   g_conn++;
   g_seq = 0;
   g_state = TF_CHALLENGE; // the server speaks first
   g_lastRx = GetTickCount64();
   g_announcedOff = LONG_MIN;
  }

//--- symbols -----------------------------------------------------------------------------------------

void AddSymbol(const string name, const bool dom)
  {
   if(name == "" || FindSym(name) >= 0 || !SymbolSelect(name, true)) return; // only Market Watch symbols deliver data
   int n = ArraySize(g_syms);
   ArrayResize(g_syms, n + 1);
   g_syms[n].name = name;
   g_syms[n].digits = (int)SymbolInfoInteger(name, SYMBOL_DIGITS);
   g_syms[n].volDigits = TfStepDigits(SymbolInfoDouble(name, SYMBOL_VOLUME_STEP));
   g_syms[n].live = false;
   g_syms[n].bs = 0;
   g_syms[n].book = false;
   g_syms[n].lastImage = "";
   g_syms[n].lastBookAt = 0;
   g_syms[n].bookDirty = false;
   g_syms[n].seenMsc = 0;
   if(dom)
     {
      if(SymbolInfoInteger(name, SYMBOL_TICKS_BOOKDEPTH) <= 0)
         PrintFormat("TapeFlow: %s reports no DOM depth; subscribing anyway", name);
      g_syms[n].book = MarketBookAdd(name); // released in OnDeinit
      if(!g_syms[n].book) PrintFormat("TapeFlow: MarketBookAdd(%s) failed, error %d", name, GetLastError());
     }
  }

int FindSym(const string name)
  {
   for(int i = 0; i < ArraySize(g_syms); i++) if(g_syms[i].name == name) return i;
   return -1;
  }

// Symbol specification. Tape detection reads only the latest tick (SymbolInfoTick) and the chart mode:
// scanning history for COPY_TICKS_TRADE ticks makes a quote-only symbol synchronise its whole tick
// history, and CopyTicks blocks an EA for up to 45 s while it does.
void SendSymbolSpec(const int k)
  {
   string s = g_syms[k].name;
   MqlTick tr;
   bool trades = false, flags = false;
   if(SymbolInfoTick(s, tr))
     {
      if((tr.flags & TICK_FLAG_LAST) != 0 && (tr.volume > 0 || tr.volume_real > 0)) trades = true;
      if((tr.flags & (TICK_FLAG_BUY | TICK_FLAG_SELL)) != 0) flags = true;
     }
   if((ENUM_SYMBOL_CHART_MODE)SymbolInfoInteger(s, SYMBOL_CHART_MODE) == SYMBOL_CHART_MODE_LAST) trades = true;
   int d = g_syms[k].digits;
   string body = StringFormat("\"sym\":%s,\"digits\":%d,\"point\":\"%s\",\"tick_size\":\"%s\",\"tick_value\":\"%s\",\"contract\":\"%s\","
                              "\"vol_step\":\"%s\",\"calc\":\"%s\",\"chart\":\"%s\",\"book_levels\":%d,\"tape\":\"%s\",\"side_flags\":%s,"
                              "\"basis\":%s,\"desc\":%s",
                              TfQuote(s), d, DoubleToString(SymbolInfoDouble(s, SYMBOL_POINT), d),
                              DoubleToString(SymbolInfoDouble(s, SYMBOL_TRADE_TICK_SIZE), d),
                              DoubleToString(SymbolInfoDouble(s, SYMBOL_TRADE_TICK_VALUE), 8),
                              DoubleToString(SymbolInfoDouble(s, SYMBOL_TRADE_CONTRACT_SIZE), 8),
                              DoubleToString(SymbolInfoDouble(s, SYMBOL_VOLUME_STEP), g_syms[k].volDigits),
                              EnumToString((ENUM_SYMBOL_CALC_MODE)SymbolInfoInteger(s, SYMBOL_TRADE_CALC_MODE)), // names, not ints
                              EnumToString((ENUM_SYMBOL_CHART_MODE)SymbolInfoInteger(s, SYMBOL_CHART_MODE)),
                              (int)SymbolInfoInteger(s, SYMBOL_TICKS_BOOKDEPTH), trades ? "trades" : "quotes", flags ? "true" : "false",
                              TfQuote(SymbolInfoString(s, SYMBOL_BASIS)), TfQuote(SymbolInfoString(s, SYMBOL_DESCRIPTION)));
   SendMsg("sym", body);
  }

//--- ticks -------------------------------------------------------------------------------------------

string TickTuple(const TfSym &s, const MqlTick &t, const int ord)
  {
   string vol = t.volume_real > 0 ? DoubleToString(t.volume_real, s.volDigits) : IntegerToString((long)t.volume);
   return StringFormat("[%I64d,%d,\"%s\",\"%s\",\"%s\",\"%s\",%u]", t.time_msc, ord,
                       DoubleToString(t.bid, s.digits), DoubleToString(t.ask, s.digits), DoubleToString(t.last, s.digits), vol, t.flags);
  }

bool FlushTicks(const string sym, string &batch, int &count)
  {
   if(count == 0) return true;
   bool ok = SendMsg("ticks", "\"sym\":" + TfQuote(sym) + ",\"live\":true,\"ts\":[" + batch + "],\"sent_ms\":" + IntegerToString((long)TimeTradeServer() * 1000));
   batch = "";
   count = 0;
   return ok;
  }

// Start the cursor at "now" (first contact): everything already in the terminal is history.
void CursorAtNow(TfSym &s)
  {
   MqlTick last[];
   s.curMs = 0;
   s.curN = 0;
   if(CopyTicks(s.name, last, COPY_TICKS_ALL, 0, 1) == 1)
     {
      MqlTick same[];
      s.curMs = last[0].time_msc;
      s.curN = CopyTicks(s.name, same, COPY_TICKS_ALL, (ulong)s.curMs, 100000); // ticks at that ms
     }
   else
     {
      // no tick yet: start at the broker's "now", never at 0 (CopyTicks from=0 means "the last count
      // ticks", which would send history as live with ordinals restarting mid-millisecond)
      s.curMs = (long)TimeTradeServer() * 1000 - 1000;
      s.curN = 0;
     }
   s.startMs = s.curMs;
   s.startN = s.curN;
  }

// The cursor pump: CopyTicks from the cursor's ms (inclusive, so it returns duplicates), skip the
// ticks already sent at that ms, emit the rest with their ordinal inside the millisecond.
void PumpSymbol(TfSym &s)
  {
   MqlTick ticks[];
   string batch = "";
   int count = 0;
   if(s.curMs <= 0) return; // never CopyTicks(from=0): see CursorAtNow
   // nothing new since the pump last caught up: skip the CopyTicks call (a whole Market Watch stays cheap)
   long tm = (long)SymbolInfoInteger(s.name, SYMBOL_TIME_MSC);
   // (a last tick older than 2 s cannot be joined by more ticks at its millisecond: a burst inside one
   // ms is still pumped until it is done)
   if(tm < s.curMs || (tm == s.seenMsc && tm > 0 && tm < (long)TimeTradeServer() * 1000 - 2000)) return;
   bool caughtUp = false;
   for(int round = 0; round < TF_PUMP_ROUNDS; round++)
     {
      ResetLastError();
      int want = TF_PUMP_N + s.curN; // (the loop below moves s.curN: "full" is judged by what was asked)
      int got = CopyTicks(s.name, ticks, COPY_TICKS_ALL, (ulong)s.curMs, want);
      if(got <= 0) { caughtUp = GetLastError() == 0; break; } // nothing new, or not synchronised yet (GetLastError): try next pass
      long ms = -1;
      int ord = 0, emitted = 0;
      for(int i = 0; i < got; i++)
        {
         if(ticks[i].time_msc != ms) { ms = ticks[i].time_msc; ord = 0; } else ord++;
         if(ms < s.curMs || (ms == s.curMs && ord < s.curN)) continue;
         StringAdd(batch, (count > 0 ? "," : "") + TickTuple(s, ticks[i], ord));
         count++;
         emitted++;
         s.curMs = ms;
         s.curN = ord + 1;
         if(count >= TF_BATCH && !FlushTicks(s.name, batch, count)) return;
        }
      if(got < want || emitted == 0) { caughtUp = true; break; } // the answer was not full: caught up
      if(round == TF_PUMP_ROUNDS - 1) g_pumpLimits++;
     }
   if(caughtUp) s.seenMsc = tm;
   FlushTicks(s.name, batch, count);
  }

void PumpAll()
  {
   if(g_state != TF_READY) return;
   if(UtcOffset() != g_announcedOff) Heartbeat(); // announce a DST change before ticks under it
   for(int i = 0; i < ArraySize(g_syms) && g_state == TF_READY; i++) PumpSymbol(g_syms[i]);
  }

void Heartbeat()
  {
   g_announcedOff = UtcOffset();
   string cur = "";
   for(int i = 0; i < ArraySize(g_syms); i++)
      if(g_syms[i].live && g_syms[i].curMs > 0) // [ms, ord]; ord -1 = before the first tick of that ms
         cur += (cur == "" ? "" : ",") + TfQuote(g_syms[i].name) + StringFormat(":[%I64d,%d]", g_syms[i].curMs, g_syms[i].curN - 1);
   SendMsg("hb", StringFormat("\"utc_off\":%I64d,\"srv_ms\":%I64d,\"q\":0,\"pump_limits\":%d,\"send_stalls\":%d,\"cursors\":{%s}",
                              g_announcedOff, (long)TimeTradeServer() * 1000, g_pumpLimits, g_sendStalls, cur));
   g_lastHb = GetTickCount64();
  }

// Before a call that can block on history synchronisation: the server holds its dead-peer timer
// for busy_ms instead of dropping the connection (and the unfinished backfill) after dead_ms.
void AnnounceBusy()
  {
   SendMsg("hb", StringFormat("\"utc_off\":%I64d,\"srv_ms\":%I64d,\"busy_ms\":%d", UtcOffset(), (long)TimeTradeServer() * 1000, TF_BUSY_MS));
  }

//--- backfill ----------------------------------------------------------------------------------------

// One CopyTicksRange window per timer pass so live ticks keep flowing between chunks.
void PumpBackfill()
  {
   if(g_state != TF_READY) return;
   if(!g_bf.active)
     {
      if(ArraySize(g_bfQueue) == 0) return;
      g_bf = g_bfQueue[0];
      ArrayRemove(g_bfQueue, 0, 1);
      g_bf.active = true;
     }
   int k = FindSym(g_bf.sym);
   if(!g_bf.begun) { SendMsg("bf_begin", StringFormat("\"id\":%I64d,\"sym\":%s", g_bf.id, TfQuote(g_bf.sym))); g_bf.begun = true; }
   if(k < 0) { EndBackfill(false, ERR_MARKET_UNKNOWN_SYMBOL); return; }
   long wEnd = MathMin(g_bf.nextMs + TF_BF_WINDOW_MS - 1, g_bf.toMs);
   MqlTick ticks[];
   AnnounceBusy();
   ResetLastError();
   int got = CopyTicksRange(g_bf.sym, ticks, COPY_TICKS_ALL, (ulong)g_bf.nextMs, (ulong)wEnd); // inclusive both ends
   int err = GetLastError();
   if(err == ERR_HISTORY_TIMEOUT && g_bf.retries < 3) { g_bf.retries++; return; } // partial: retry the window later
   if(err == ERR_HISTORY_NOT_FOUND && g_bf.sent == 0) g_bf.exhausted = true;     // the terminal's history starts later
   if(got < 0 && err != ERR_HISTORY_NOT_FOUND) { EndBackfill(false, err); return; }
   if(err != 0 && err != ERR_HISTORY_NOT_FOUND) g_bf.complete = false;
   g_bf.retries = 0;
   // whole milliseconds per window, so the ordinal restarts at 0 at every ms exactly as live
   string batch = "";
   int count = 0;
   long ms = -1;
   int ord = 0;
   bool cut = false, more = false;
   int pass = 0;
   for(int i = 0; i < got; i++)
     {
      // the tick cap ends a backfill only at a millisecond boundary, so scanned_to is exact
      if(g_bf.sent >= g_bf.maxTicks && ticks[i].time_msc != ms) { cut = true; break; }
      // a bounded amount per pass: the rest of the window continues on the next pass, at a whole ms
      if(pass >= TF_BF_PASS && ticks[i].time_msc != ms) { more = true; break; }
      pass++;
      if(ticks[i].time_msc != ms) { ms = ticks[i].time_msc; ord = 0; } else ord++;
      StringAdd(batch, (count > 0 ? "," : "") + TickTuple(g_syms[k], ticks[i], ord));
      count++;
      g_bf.sent++;
      if(count >= TF_CHUNK)
        {
         SendMsg("bf_chunk", StringFormat("\"id\":%I64d,\"sym\":%s,\"i\":%d,\"ts\":[%s]", g_bf.id, TfQuote(g_bf.sym), g_bf.chunk++, batch));
         batch = "";
         count = 0;
        }
     }
   if(count > 0) SendMsg("bf_chunk", StringFormat("\"id\":%I64d,\"sym\":%s,\"i\":%d,\"ts\":[%s]", g_bf.id, TfQuote(g_bf.sym), g_bf.chunk++, batch));
   if(more)
     {
      g_bf.nextMs = ms + 1;
      g_bf.scannedTo = ms;
      return;
     }
   if(cut)
     {
      // capped: covered up to the last whole millisecond sent; the server asks for the rest
      if(ms >= 0) g_bf.scannedTo = ms; // else the cap was met at the previous window's end
      EndBackfill(g_bf.complete, 0);
      return;
     }
   g_bf.nextMs = wEnd + 1;
   g_bf.scannedTo = wEnd;
   if(g_bf.nextMs > g_bf.toMs) EndBackfill(g_bf.complete, 0);
  }

// scanned_to: the last broker ms whose ticks were all sent (never past what CopyTicksRange returned)
void EndBackfill(const bool complete, const int err)
  {
   SendMsg("bf_end", StringFormat("\"id\":%I64d,\"sym\":%s,\"n\":%d,\"complete\":%s,\"err\":%d,\"scanned_to\":%I64d,\"exhausted\":%s",
                                  g_bf.id, TfQuote(g_bf.sym), g_bf.sent, complete ? "true" : "false", err, g_bf.scannedTo,
                                  g_bf.exhausted ? "true" : "false"));
   g_bf.active = false;
  }

//--- DOM ---------------------------------------------------------------------------------------------

void SendBook(const int k)
  {
   ulong now = GetTickCount64();
   // latest-wins: a throttled change is sent by the timer once the interval has passed (trailing flush)
   if(now >= g_syms[k].lastBookAt && now - g_syms[k].lastBookAt < TF_BOOK_MIN_MS) { g_syms[k].bookDirty = true; return; }
   g_syms[k].bookDirty = false;
   MqlBookInfo book[];
   if(!MarketBookGet(g_syms[k].name, book)) return; // the book as of now, not of the event
   string b = "", a = "";
   int d = g_syms[k].digits;
   for(int i = 0; i < ArraySize(book); i++)
     {
      // *_MARKET rows are market orders waiting to cross, not resting liquidity
      string lvl = StringFormat("[\"%s\",\"%s\"]", DoubleToString(book[i].price, d),
                                book[i].volume_real > 0 ? DoubleToString(book[i].volume_real, g_syms[k].volDigits) : IntegerToString(book[i].volume));
      if(book[i].type == BOOK_TYPE_BUY) b += (b == "" ? "" : ",") + lvl;
      else if(book[i].type == BOOK_TYPE_SELL) a += (a == "" ? "" : ",") + lvl;
     }
   string image = b + "|" + a;
   if(image == g_syms[k].lastImage && now >= g_syms[k].lastBookAt && now - g_syms[k].lastBookAt < TF_BOOK_KEEP_MS) return;
   g_syms[k].lastImage = image;
   g_syms[k].lastBookAt = now;
   // no timestamps in the DOM: stamp it with the newest known server time
   long stamp = MathMax((long)SymbolInfoInteger(g_syms[k].name, SYMBOL_TIME_MSC), (long)TimeTradeServer() * 1000);
   SendMsg("book", StringFormat("\"sym\":%s,\"bs\":%d,\"ms\":%I64d,\"b\":[%s],\"a\":[%s]", TfQuote(g_syms[k].name), ++g_syms[k].bs, stamp, b, a));
  }

// Trailing flush: book images throttled by SendBook go out once TF_BOOK_MIN_MS has passed.
void FlushBooks()
  {
   for(int i = 0; i < ArraySize(g_syms) && g_state == TF_READY; i++)
      if(g_syms[i].book && g_syms[i].bookDirty) SendBook(i);
  }

//--- inbound -----------------------------------------------------------------------------------------

void OnServerLine(const string line)
  {
   g_lastRx = GetTickCount64();
   string t = TfStr(line, "t");
   if(t == "challenge")
     {
      string nonce = TfStr(line, "nonce");
      string mac = TfHmacSha256Hex(InpSecret, nonce + "|" + g_sid + "|" + IntegerToString(g_conn) + "|" + IntegerToString(TF_PROTO));
      string syms = "";
      for(int i = 0; i < ArraySize(g_syms); i++) syms += (i ? "," : "") + TfQuote(g_syms[i].name);
      string loginHash = TfHmacSha256Hex("tapeflow-login", IntegerToString(AccountInfoInteger(ACCOUNT_LOGIN))); // never send the login itself
      SendMsg("hello", StringFormat("\"proto\":%d,\"bridge\":\"tapeflow-mt5\",\"bver\":\"0.1.0\",\"sid\":\"%s\",\"conn\":%d,"
                                    "\"term\":{\"build\":%d,\"company\":%s,\"server\":%s,\"login_h\":\"%s\"},\"utc_off\":%I64d,"
                                    "\"caps\":[\"ticks\",\"book\",\"backfill\"],\"syms\":[%s],\"bf_days\":%d,\"mac\":\"%s\"",
                                    TF_PROTO, g_sid, g_conn, (int)TerminalInfoInteger(TERMINAL_BUILD), TfQuote(AccountInfoString(ACCOUNT_COMPANY)),
                                    TfQuote(AccountInfoString(ACCOUNT_SERVER)), loginHash, UtcOffset(), syms, InpBackfillDays, mac));
      g_announcedOff = UtcOffset();
     }
   else if(t == "welcome")
     {
      g_hbMs = (int)TfLong(line, "hb_ms", InpHeartbeatMs);
      g_deadMs = (int)TfLong(line, "dead_ms", 5000);
      for(int i = 0; i < ArraySize(g_syms); i++)
        {
         long ms;
         int ord;
         int p = StringFind(line, "\"sym\":" + TfQuote(g_syms[i].name));
         if(p >= 0 && TfCursor(line, "from", p, ms, ord) && (long)TimeCurrent() * 1000 - ms > (long)InpReplayHours * 3600000)
           {
            // older than the replay window: start live now; the server sees the hole and sends bf_req for it
            CursorAtNow(g_syms[i]);
            PrintFormat("TapeFlow: %s resume point is older than %d h; starting live (the server backfills the hole)", g_syms[i].name, InpReplayHours);
           }
         else if(p >= 0 && TfCursor(line, "from", p, ms, ord))
           { g_syms[i].curMs = ms; g_syms[i].curN = ord + 1; } // resume after the last persisted tick
         else if(g_syms[i].live)
           { g_syms[i].curMs = g_syms[i].startMs; g_syms[i].curN = g_syms[i].startN; } // nothing persisted: replay this session
         else CursorAtNow(g_syms[i]);
         g_syms[i].live = true;
         g_syms[i].lastImage = ""; // DOM has no history: send a fresh image (the timer's FlushBooks)
         g_syms[i].bookDirty = g_syms[i].book;
        }
      g_state = TF_READY;
      g_backoffStep = 0;
      Print("TapeFlow: connected to ", InpHost, ":", InpPort);
      for(int i = 0; i < ArraySize(g_syms); i++) SendSymbolSpec(i);
      Heartbeat();
     }
   else if(t == "reject")
     {
      string code = TfStr(line, "code");
      PrintFormat("TapeFlow: rejected %s: %s%s", code, TfStr(line, "msg"), code == "BAD_MAC" ? " (check the shared secret input)" : "");
      Disconnect("rejected " + code);
     }
   else if(t == "bf_req")
     {
      int n = ArraySize(g_bfQueue);
      ArrayResize(g_bfQueue, n + 1);
      g_bfQueue[n].id = TfLong(line, "id");
      g_bfQueue[n].sym = TfStr(line, "sym");
      g_bfQueue[n].fromMs = TfLong(line, "from_ms");
      g_bfQueue[n].toMs = TfLong(line, "to_ms");
      g_bfQueue[n].nextMs = g_bfQueue[n].fromMs;
      g_bfQueue[n].scannedTo = g_bfQueue[n].fromMs - 1;
      g_bfQueue[n].exhausted = false;
      g_bfQueue[n].maxTicks = MathMin(TfLong(line, "max", 50000), 500000);
      g_bfQueue[n].chunk = 0;
      g_bfQueue[n].sent = 0;
      g_bfQueue[n].retries = 0;
      g_bfQueue[n].begun = false;
      g_bfQueue[n].active = false;
      g_bfQueue[n].complete = true;
     }
   else if(t == "sub")
     {
      // server-side subscription: stream one more symbol from now on (the server backfills its history)
      string sym = TfStr(line, "sym");
      if(FindSym(sym) < 0)
        {
         AddSymbol(sym, StringFind(line, "\"book\":true") >= 0);
         int k = FindSym(sym);
         if(k < 0) { SendMsg("err", "\"code\":\"UNKNOWN_SYMBOL\",\"msg\":" + TfQuote("sub: no such symbol " + sym)); return; }
         CursorAtNow(g_syms[k]);
         g_syms[k].live = true;
         SendSymbolSpec(k);
         Heartbeat();
        }
     }
   else if(t == "unsub")
     {
      int k = FindSym(TfStr(line, "sym"));
      if(k >= 0)
        {
         if(g_syms[k].book) MarketBookRelease(g_syms[k].name);
         ArrayRemove(g_syms, k, 1);
        }
     }
   else if(t == "err") PrintFormat("TapeFlow: server error %s: %s", TfStr(line, "code"), TfStr(line, "msg"));
   // "ack" and "hb" only refresh g_lastRx (liveness); the resume cursor comes with the next welcome
  }

// Non-blocking read: SocketIsReadable can return a speculative 1 on an idle socket, so the read
// timeout stays at a few ms (never 0 = 120 s). Lines are decoded only once complete (UTF-8 safe).
void ReadSocket()
  {
   uint avail = SocketIsReadable(g_sock);
   if(avail == 0)
     {
      if(!SocketIsConnected(g_sock)) Disconnect("peer closed");
      return;
     }
   uchar buf[];
   ResetLastError(); // a stale error from an earlier call must not read as a broken socket
   int r = SocketRead(g_sock, buf, avail, 5);
   if(r <= 0)
     {
      int err = GetLastError();
      if(err == ERR_NETSOCKET_IO_ERROR || !SocketIsConnected(g_sock)) Disconnect("read error " + IntegerToString(err));
      return;
     }
   int old = ArraySize(g_rx);
   ArrayResize(g_rx, old + r);
   ArrayCopy(g_rx, buf, old, 0, r);
   int start = 0;
   for(int i = old; i < ArraySize(g_rx); i++)
     {
      if(g_rx[i] != '\n') continue;
      if(i > start) OnServerLine(CharArrayToString(g_rx, start, i - start, CP_UTF8));
      if(g_sock == INVALID_HANDLE) return; // a reject closed the socket
      start = i + 1;
     }
   if(start > 0) ArrayRemove(g_rx, 0, start);
   if(ArraySize(g_rx) > TF_MAX_RX) Disconnect("server line too long");
  }

//--- event handlers ----------------------------------------------------------------------------------

int OnInit()
  {
   if(InpSecret == "") { Print("TapeFlow: set the shared secret input"); return INIT_PARAMETERS_INCORRECT; }
   g_sid = NewSid();
   ArrayResize(g_syms, 0);
   if(InpSymbols == "")
      for(int i = 0; i < SymbolsTotal(true); i++) AddSymbol(SymbolName(i, true), InpDom);
   else
     {
      string parts[];
      int n = StringSplit(InpSymbols, ',', parts);
      for(int i = 0; i < n; i++) { StringTrimLeft(parts[i]); StringTrimRight(parts[i]); AddSymbol(parts[i], InpDom); }
     }
   g_bf.active = false;
   // never connect from OnInit (it can block); the timer connects with backoff
   if(!EventSetMillisecondTimer(MathMax(10, InpTimerMs))) return INIT_FAILED;
   g_nextConnect = 0;
   return INIT_SUCCEEDED;
  }

void OnDeinit(const int reason)
  {
   if(g_state == TF_READY) SendMsg("bye", "\"reason\":" + IntegerToString(reason));
   if(g_sock != INVALID_HANDLE) { SocketClose(g_sock); g_sock = INVALID_HANDLE; }
   for(int i = 0; i < ArraySize(g_syms); i++) if(g_syms[i].book) MarketBookRelease(g_syms[i].name); // subscription counters are per chart
   EventKillTimer();
  }

void OnTimer()
  {
   ulong now = GetTickCount64();
   if(g_sock == INVALID_HANDLE)
     {
      if(now >= g_nextConnect) Connect();
      return;
     }
   ReadSocket();
   if(g_sock == INVALID_HANDLE) return;
   // ulong: read the clock again AFTER ReadSocket set g_lastRx; "now - g_lastRx" with an older now
   // wraps to ~1.8e19 and would drop a healthy server
   now = GetTickCount64();
   ulong silent = now > g_lastRx ? now - g_lastRx : 0;
   if(silent > (ulong)g_deadMs) { Disconnect("server silent"); return; } // half-open: SocketIsConnected cannot tell
   if(g_state == TF_CHALLENGE && silent > 5000) { Disconnect("no challenge"); return; }
   if(g_state != TF_READY) return;
   FlushBooks(); // a DOM image is one line and latest-wins: before a tick backlog, so it stays current
   PumpAll();
   PumpBackfill();
   now = GetTickCount64();
   if(g_state == TF_READY && now >= g_lastHb && now - g_lastHb >= (ulong)g_hbMs) Heartbeat();
  }

// OnTick fires only for the chart symbol and coalesces; it is just an extra wake-up for the pump.
void OnTick()
  {
   PumpAll();
  }

void OnBookEvent(const string &symbol)
  {
   if(g_state != TF_READY) return;
   int k = FindSym(symbol); // events are broadcast per chart: check the symbol
   if(k < 0) return;
   if(g_syms[k].book) SendBook(k);
   PumpAll();
  }
//+------------------------------------------------------------------+
