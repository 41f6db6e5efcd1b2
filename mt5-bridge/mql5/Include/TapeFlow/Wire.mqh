//+------------------------------------------------------------------+
//| TapeFlow bridge: tiny JSON helpers for protocol v1.               |
//| Outbound JSON is built with StringFormat (no JSON library on the  |
//| hot path). Inbound server messages are few and flat, so a small   |
//| field extractor is enough; it is not a general JSON parser.       |
//+------------------------------------------------------------------+
#ifndef TAPEFLOW_WIRE_MQH
#define TAPEFLOW_WIRE_MQH

// JSON string literal with ", \ and control characters escaped (symbol names can hold $ # + . - / and
// spaces, descriptions can hold any Unicode; StringToCharArray(CP_UTF8) encodes them later).
string TfQuote(const string s)
  {
   string o = "\"";
   int n = StringLen(s);
   for(int i = 0; i < n; i++)
     {
      ushort c = StringGetCharacter(s, i);
      if(c == '"') o += "\\\"";
      else if(c == '\\') o += "\\\\";
      else if(c == '\n') o += "\\n";
      else if(c == '\r') o += "\\r";
      else if(c == '\t') o += "\\t";
      else if(c < 0x20) o += StringFormat("\\u%04x", c);
      else o += ShortToString(c);
     }
   return o + "\"";
  }

// Position just after `"key":` (searching from `from`), or -1.
int TfFind(const string line, const string key, int from = 0)
  {
   int p = StringFind(line, "\"" + key + "\":", from);
   return p < 0 ? -1 : p + StringLen(key) + 3;
  }

// String field value (no unescaping beyond \" and \\ — server strings are ASCII).
string TfStr(const string line, const string key, int from = 0)
  {
   int p = TfFind(line, key, from);
   if(p < 0 || StringGetCharacter(line, p) != '"') return "";
   string o = "";
   for(int i = p + 1; i < StringLen(line); i++)
     {
      ushort c = StringGetCharacter(line, i);
      if(c == '\\') { i++; o += ShortToString(StringGetCharacter(line, i)); continue; }
      if(c == '"') break;
      o += ShortToString(c);
     }
   return o;
  }

// Integer field value (long), or `def` when absent.
long TfLong(const string line, const string key, long def = 0, int from = 0)
  {
   int p = TfFind(line, key, from);
   if(p < 0) return def;
   int e = p;
   while(e < StringLen(line))
     {
      ushort c = StringGetCharacter(line, e);
      if((c >= '0' && c <= '9') || c == '-') e++; else break;
     }
   if(e == p) return def;
   return StringToInteger(StringSubstr(line, p, e - p));
  }

// A [ms,ord] cursor after `"key":`; false when null/absent.
bool TfCursor(const string line, const string key, int from, long &ms, int &ord)
  {
   int p = TfFind(line, key, from);
   if(p < 0 || StringGetCharacter(line, p) != '[') return false;
   int comma = StringFind(line, ",", p);
   int close = StringFind(line, "]", p);
   if(comma < 0 || close < comma) return false;
   ms = StringToInteger(StringSubstr(line, p + 1, comma - p - 1));
   ord = (int)StringToInteger(StringSubstr(line, comma + 1, close - comma - 1));
   return true;
  }

// Decimal places of a step such as 0.01 (for DoubleToString of volumes).
int TfStepDigits(double step)
  {
   int d = 0;
   while(d < 8 && MathAbs(step * MathPow(10, d) - MathRound(step * MathPow(10, d))) > 1e-9) d++;
   return d;
  }

#endif
