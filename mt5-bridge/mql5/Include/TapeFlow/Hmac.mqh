//+------------------------------------------------------------------+
//| TapeFlow bridge: HMAC-SHA256 (RFC 2104) on top of CryptEncode.    |
//| CryptEncode(CRYPT_HASH_SHA256, ...) is a plain SHA-256 and has no |
//| HMAC mode, so the two keyed passes are done here by hand.         |
//+------------------------------------------------------------------+
#ifndef TAPEFLOW_HMAC_MQH
#define TAPEFLOW_HMAC_MQH

// Plain SHA-256 of `data` into `out` (32 bytes). The key argument of CryptEncode is ignored for
// hashes, so an empty array is passed (passing the secret there would NOT make it an HMAC).
bool TfSha256(const uchar &data[], uchar &out[])
  {
   uchar nokey[];
   ArrayResize(nokey, 0);
   return CryptEncode(CRYPT_HASH_SHA256, data, nokey, out) == 32;
  }

// Lower-case hex of a byte array.
string TfHex(const uchar &b[])
  {
   string s = "";
   for(int i = 0; i < ArraySize(b); i++)
      s += StringFormat("%02x", b[i]);
   return s;
  }

// UTF-8 bytes of a string WITHOUT the trailing NUL that StringToCharArray appends by default.
int TfUtf8(const string text, uchar &out[])
  {
   ArrayResize(out, 0);
   int n = StringToCharArray(text, out, 0, WHOLE_ARRAY, CP_UTF8) - 1; // count includes the NUL
   if(n < 0) n = 0;
   ArrayResize(out, n);
   return n;
  }

// hex(HMAC-SHA256(key, message)), both as UTF-8 strings.
string TfHmacSha256Hex(const string key, const string message)
  {
   uchar k[], m[], kk[64], ipad[], opad[], inner[], outer[];
   TfUtf8(key, k);
   TfUtf8(message, m);
   // keys longer than the 64-byte block are hashed first (RFC 2104 §2)
   if(ArraySize(k) > 64)
     {
      uchar hk[];
      TfSha256(k, hk);
      ArrayCopy(k, hk);
      ArrayResize(k, 32);
     }
   ArrayInitialize(kk, 0);
   ArrayCopy(kk, k, 0, 0, ArraySize(k));
   ArrayResize(ipad, 64 + ArraySize(m));
   for(int i = 0; i < 64; i++) ipad[i] = (uchar)(kk[i] ^ 0x36);
   ArrayCopy(ipad, m, 64, 0, ArraySize(m));
   if(!TfSha256(ipad, inner)) return "";
   ArrayResize(opad, 64 + 32);
   for(int i = 0; i < 64; i++) opad[i] = (uchar)(kk[i] ^ 0x5c);
   ArrayCopy(opad, inner, 64, 0, 32);
   if(!TfSha256(opad, outer)) return "";
   return TfHex(outer);
  }

#endif
