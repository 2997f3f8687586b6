/* Tests of WebSocket masking: the RFC vectors and a differential check of
 * the word-wide path against a byte loop at every length, offset and
 * alignment. */
#include "../tap.h"

#include <gust/ws.h>

#include <string.h>

static void ref_mask(uint8_t *d, size_t n, const uint8_t *k, uint64_t off) {
  size_t i;
  for (i = 0; i < n; i++)
    d[i] ^= k[(off + i) & 3];
}

static void vector(const char *name, const uint8_t *key, const uint8_t *in,
                   size_t n, const uint8_t *want) {
  uint8_t buf[32];
  memcpy(buf, in, n);
  gust_ws_mask(buf, n, key, 0);
  cmp_mem(buf, n, want, n, "vector: %s", name);
}

int main(void) {
  if (tap_group("vectors")) {
    vector("abcd empty", (const uint8_t *)"abcd", (const uint8_t *)"", 0,
           (const uint8_t *)"");
    vector("abcd b", (const uint8_t *)"abcd", (const uint8_t *)"b", 1,
           (const uint8_t *)"\x03");
    vector("abcd 54321", (const uint8_t *)"abcd", (const uint8_t *)"54321", 5,
           (const uint8_t *)"TVPVP");
    vector("ZXCV 98765432", (const uint8_t *)"ZXCV",
           (const uint8_t *)"98765432", 8, (const uint8_t *)"c`t`olpd");
    vector("00010203", (const uint8_t *)"\x00\x01\x02\x03",
           (const uint8_t *)"\xff\xfb\xfd\xfc\xfe\xfa", 6,
           (const uint8_t *)"\xff\xfa\xff\xff\xfe\xfb");
    vector("fffbfdfc", (const uint8_t *)"\xff\xfb\xfd\xfc",
           (const uint8_t *)"\x00\x01\x02\x03\x04\x05", 6,
           (const uint8_t *)"\xff\xfa\xff\xff\xfb\xfe");
    vector("RFC 5.7 Hello", (const uint8_t *)"\x37\xfa\x21\x3d",
           (const uint8_t *)"Hello", 5,
           (const uint8_t *)"\x7f\x9f\x4d\x51\x58");
  }
  if (tap_group("differential")) {
    static uint8_t src[1200], a[1216], b[1216];
    static const size_t extra[] = {300, 383,  384,  511,  512, 513,
                                   700, 1023, 1024, 1100, 1199};
    const uint8_t key[4] = {0x12, 0x9a, 0xfe, 0x01};
    size_t i, n, align, k;
    uint64_t off;
    int bad = 0, bad_copy = 0;
    for (i = 0; i < sizeof src; i++)
      src[i] = (uint8_t)(i * 131 + 7);
    for (k = 0; k < 261 + sizeof extra / sizeof extra[0]; k++) {
      n = k < 261 ? k : extra[k - 261];
      for (align = 0; align < 8; align++)
        for (off = 0; off < 8; off++) {
          memcpy(a + align, src, n);
          memcpy(b, src, n);
          gust_ws_mask(a + align, n, key, off + ((uint64_t)1 << 40));
          ref_mask(b, n, key, off);
          if (memcmp(a + align, b, n) != 0)
            bad++;
          memset(a, 0, sizeof a);
          gust_ws_mask_copy(a + align, src, n, key, off);
          if (memcmp(a + align, b, n) != 0)
            bad_copy++;
        }
    }
    is_int(bad, 0,
           "differential: in place, lengths 0-260 and up to 1199 (every "
           "vector path), 8 alignments, 8 offsets");
    is_int(bad_copy, 0, "differential: copying form agrees");
  }
  if (tap_group("pieces")) {
    uint8_t whole[100], parts[100];
    const uint8_t key[4] = {1, 2, 3, 4};
    size_t i, cut;
    int bad = 0;
    for (i = 0; i < 100; i++)
      whole[i] = (uint8_t)i;
    gust_ws_mask(whole, 100, key, 0);
    for (cut = 0; cut <= 100; cut++) {
      for (i = 0; i < 100; i++)
        parts[i] = (uint8_t)i;
      gust_ws_mask(parts, cut, key, 0);
      gust_ws_mask(parts + cut, 100 - cut, key, cut);
      if (memcmp(parts, whole, 100) != 0)
        bad++;
    }
    is_int(bad, 0, "pieces: unmasking in two pieces at every cut matches");
  }
  return done_testing();
}
