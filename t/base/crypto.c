/* Tests of the crypto primitives: SHA-1/SHA-256 known answers (FIPS 180),
 * HMAC (RFC 2202, RFC 4231), constant-time comparison, random bytes and
 * the backend name. */
#include <gust/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"

/* Decodes a hex string into out; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out) {
  size_t n = 0;
  while (hex[0] && hex[1]) {
    unsigned v;
    if (sscanf(hex, "%2x", &v) != 1)
      bail_out("bad hex in test data: %s", hex);
    out[n++] = (uint8_t)v;
    hex += 2;
  }
  return n;
}

static gust_slice sl(const void *p, size_t n) {
  gust_slice s;
  s.ptr = p;
  s.len = n;
  return s;
}

/* Hashes one string and compares with the expected hex digest. */
static int hash_is(gust_digest alg, const void *data, size_t len,
                   const char *hex, const char *name) {
  uint8_t out[GUST_DIGEST_MAX], want[GUST_DIGEST_MAX];
  gust_slice part = sl(data, len);
  size_t wn = unhex(hex, want);
  int rc = gust_hash(alg, &part, 1, out);
  if (rc != 0) {
    return is_int(rc, 0, "%s: gust_hash succeeds", name);
  }
  return cmp_mem(out, gust_digest_size(alg), want, wn, "%s", name);
}

struct hmac_case {
  const char *key_hex; /* or NULL: key is key_byte repeated key_len times */
  uint8_t key_byte;
  size_t key_len;
  const char *data; /* or NULL: data_byte repeated data_len times */
  uint8_t data_byte;
  size_t data_len;
  const char *sha1;   /* RFC 2202 */
  const char *sha256; /* RFC 4231; may be a truncated prefix */
};

static const struct hmac_case hmac_cases[] = {
    /* 1 */
    {NULL, 0x0b, 20, "Hi There", 0, 0,
     "b617318655057264e28bc0b6fb378c8ef146be00",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    /* 2: a key shorter than the digest */
    {"4a656665", 0, 0, "what do ya want for nothing?", 0, 0,
     "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    /* 3 */
    {NULL, 0xaa, 20, NULL, 0xdd, 50, "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    /* 4 */
    {"0102030405060708090a0b0c0d0e0f10111213141516171819", 0, 0, NULL, 0xcd, 50,
     "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
    /* 5: RFC 4231 gives only the first 128 bits */
    {NULL, 0x0c, 20, "Test With Truncation", 0, 0,
     "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04",
     "a3b6167473100ee06e0c796c2955552b"},
};

/* Cases 6 and 7 differ between the RFCs (80-byte key and other data in
 * RFC 2202, 131-byte key in RFC 4231), so they are listed per digest. */
struct hmac_big_case {
  gust_digest alg;
  size_t key_len;
  const char *data;
  const char *hex;
  const char *name;
};

static const struct hmac_big_case big_cases[] = {
    {GUST_SHA1, 80, "Test Using Larger Than Block-Size Key - Hash Key First",
     "aa4ae5e15272d00e95705637ce8a3b55ed402112", "RFC 2202 case 6"},
    {GUST_SHA1, 80,
     "Test Using Larger Than Block-Size Key and Larger Than One Block-Size "
     "Data",
     "e8e99d0f45237d786d6bbaa7965c7808bbff1a91", "RFC 2202 case 7"},
    {GUST_SHA256, 131, "Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
     "RFC 4231 case 6"},
    {GUST_SHA256, 131,
     "This is a test using a larger than block-size key and a larger than "
     "block-size data. The key needs to be hashed before being used by the "
     "HMAC algorithm.",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
     "RFC 4231 case 7"},
};

static const char abc448[] =
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

int main(void) {
  if (tap_group("crypto: digest sizes")) {
    is_int(gust_digest_size(GUST_SHA1), 20, "digest_size: SHA-1 is 20");
    is_int(gust_digest_size(GUST_SHA256), 32, "digest_size: SHA-256 is 32");
    is_int(gust_digest_size((gust_digest)0), 0, "digest_size: 0 is unknown");
    is_int(gust_digest_size((gust_digest)3), 0, "digest_size: 3 is unknown");
    is_int(gust_digest_size((gust_digest)-1), 0, "digest_size: -1 is unknown");
    ok(gust_digest_size(GUST_SHA256) <= GUST_DIGEST_MAX &&
           gust_digest_size(GUST_SHA1) <= GUST_DIGEST_MAX,
       "digest_size: GUST_DIGEST_MAX covers every digest");
  }

  if (tap_group("crypto: FIPS 180 known answers")) {
    hash_is(GUST_SHA1, "abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d",
            "sha1: 'abc'");
    hash_is(GUST_SHA1, "", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "sha1: empty string");
    hash_is(GUST_SHA1, NULL, 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "sha1: empty part with a NULL pointer");
    hash_is(GUST_SHA1, abc448, 56, "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
            "sha1: 448-bit message");
    hash_is(GUST_SHA256, "abc", 3,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "sha256: 'abc'");
    hash_is(GUST_SHA256, "", 0,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256: empty string");
    hash_is(GUST_SHA256, abc448, 56,
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            "sha256: 448-bit message");
    {
      uint8_t out[GUST_DIGEST_MAX], want[GUST_DIGEST_MAX];
      is_int(gust_hash(GUST_SHA256, NULL, 0, out), 0,
             "hash: zero parts (NULL array) hashes the empty string");
      unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            want);
      cmp_mem(out, 32, want, 32, "hash: zero parts gives SHA-256('')");
    }
  }

  if (tap_group("crypto: million 'a' in many parts")) {
    static uint8_t a[1000000];
    static gust_slice parts[4096];
    uint8_t out[GUST_DIGEST_MAX], want[GUST_DIGEST_MAX];
    size_t n = 0, off = 0, step = 1;
    memset(a, 'a', sizeof(a));
    /* uneven parts (1, 2, 3, ... bytes, with empty parts between) */
    while (off < sizeof(a)) {
      size_t len = step < sizeof(a) - off ? step : sizeof(a) - off;
      parts[n++] = sl(a + off, len);
      parts[n++] = sl(NULL, 0);
      off += len;
      step++;
    }
    note("%zu parts", n);
    is_int(gust_hash(GUST_SHA1, parts, n, out), 0, "sha1: million 'a' parts");
    unhex("34aa973cd4c4daa4f61eeb2bdbad27316534016f", want);
    cmp_mem(out, 20, want, 20, "sha1: million 'a' (FIPS 180) in %zu parts", n);
    is_int(gust_hash(GUST_SHA256, parts, n, out), 0,
           "sha256: million 'a' parts");
    unhex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
          want);
    cmp_mem(out, 32, want, 32, "sha256: million 'a' (FIPS 180) in %zu parts",
            n);
    hash_is(GUST_SHA256, a, sizeof(a),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
            "sha256: million 'a' in one part");
  }

  if (tap_group("crypto: streaming hash")) {
    static uint8_t a[1000000];
    uint8_t out[GUST_DIGEST_MAX], want[GUST_DIGEST_MAX];
    gust_hash_ctx *ctx = NULL;
    size_t off = 0, step = 1;
    int rc = 0;
    memset(a, 'a', sizeof(a));
    is_int(gust_hash_new(&ctx, GUST_SHA256), 0, "stream: new sha256");
    while (off < sizeof(a) && rc == 0) {
      size_t len = step < sizeof(a) - off ? step : sizeof(a) - off;
      rc = gust_hash_update(ctx, a + off, len);
      if (rc == 0)
        rc = gust_hash_update(ctx, NULL, 0);
      off += len;
      step = step * 2 + 1;
    }
    is_int(rc, 0, "stream: updates in growing pieces");
    is_int(gust_hash_final(ctx, out), 0, "stream: final");
    unhex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
          want);
    cmp_mem(out, 32, want, 32, "stream: sha256 of a million 'a' (FIPS 180)");
    is_int(gust_hash_new(&ctx, GUST_SHA1), 0, "stream: new sha1");
    is_int(gust_hash_update(ctx, "abc", 3), 0, "stream: update abc");
    is_int(gust_hash_final(ctx, out), 0, "stream: final sha1");
    unhex("a9993e364706816aba3e25717850c26c9cd0d89d", want);
    cmp_mem(out, 20, want, 20, "stream: sha1 of abc (FIPS 180)");
    is_int(gust_hash_new(&ctx, GUST_SHA1), 0, "stream: new, then dropped");
    gust_hash_free(ctx);
    gust_hash_free(NULL);
    is_int(gust_hash_new(NULL, GUST_SHA1), GUST_EINVAL, "stream: NULL out");
    is_int(gust_hash_new(&ctx, (gust_digest)99), GUST_EINVAL,
           "stream: unknown digest");
    ok(ctx == NULL, "stream: *out NULL after a failure");
    is_int(gust_hash_update(NULL, "x", 1), GUST_EINVAL, "stream: NULL ctx");
    is_int(gust_hash_final(NULL, out), GUST_EINVAL, "stream: final NULL");
  }

  if (tap_group("crypto: multi-part equals one-part")) {
    uint8_t data[200], one[GUST_DIGEST_MAX], multi[GUST_DIGEST_MAX];
    uint8_t key[] = "secret key";
    size_t i, j;
    int bad_hash = 0, bad_hmac = 0, a;
    for (i = 0; i < sizeof(data); i++)
      data[i] = (uint8_t)(i * 31 + 7);
    for (a = GUST_SHA1; a <= GUST_SHA256; a++) {
      gust_digest alg = (gust_digest)a;
      gust_slice whole = sl(data, sizeof(data));
      uint8_t hone[GUST_DIGEST_MAX];
      gust_hash(alg, &whole, 1, one);
      gust_hmac(alg, key, sizeof(key) - 1, &whole, 1, hone);
      /* every split into two parts, and some into three */
      for (i = 0; i <= sizeof(data); i++) {
        gust_slice p[3];
        p[0] = sl(data, i);
        p[1] = sl(data + i, sizeof(data) - i);
        if (gust_hash(alg, p, 2, multi) != 0 ||
            memcmp(one, multi, gust_digest_size(alg)) != 0)
          bad_hash++;
        if (gust_hmac(alg, key, sizeof(key) - 1, p, 2, multi) != 0 ||
            memcmp(hone, multi, gust_digest_size(alg)) != 0)
          bad_hmac++;
        for (j = i; j <= sizeof(data); j += 37) {
          p[0] = sl(data, i);
          p[1] = sl(data + i, j - i);
          p[2] = sl(data + j, sizeof(data) - j);
          if (gust_hash(alg, p, 3, multi) != 0 ||
              memcmp(one, multi, gust_digest_size(alg)) != 0)
            bad_hash++;
        }
      }
      /* a different message gives a different digest */
      data[100] ^= 1;
      gust_hash(alg, &whole, 1, multi);
      ok(memcmp(one, multi, gust_digest_size(alg)) != 0,
         "hash: %s changes when one bit of the input changes",
         a == GUST_SHA1 ? "SHA-1" : "SHA-256");
      data[100] ^= 1;
    }
    is_int(bad_hash, 0, "hash: every 2- and 3-part split equals one part");
    is_int(bad_hmac, 0, "hmac: every 2-part split equals one part");
  }

  if (tap_group("crypto: HMAC RFC 2202 and RFC 4231")) {
    size_t i;
    for (i = 0; i < sizeof(hmac_cases) / sizeof(hmac_cases[0]); i++) {
      const struct hmac_case *c = &hmac_cases[i];
      uint8_t key[200], data[200], out[GUST_DIGEST_MAX], want[GUST_DIGEST_MAX];
      size_t klen, dlen, wn;
      gust_slice part;
      if (c->key_hex != NULL)
        klen = unhex(c->key_hex, key);
      else {
        klen = c->key_len;
        memset(key, c->key_byte, klen);
      }
      if (c->data != NULL) {
        dlen = strlen(c->data);
        memcpy(data, c->data, dlen);
      } else {
        dlen = c->data_len;
        memset(data, c->data_byte, dlen);
      }
      part = sl(data, dlen);
      is_int(gust_hmac(GUST_SHA1, key, klen, &part, 1, out), 0,
             "hmac-sha1: RFC 2202 case %zu succeeds", i + 1);
      wn = unhex(c->sha1, want);
      cmp_mem(out, wn, want, wn, "hmac-sha1: RFC 2202 case %zu", i + 1);
      is_int(gust_hmac(GUST_SHA256, key, klen, &part, 1, out), 0,
             "hmac-sha256: RFC 4231 case %zu succeeds", i + 1);
      wn = unhex(c->sha256, want);
      cmp_mem(out, wn, want, wn, "hmac-sha256: RFC 4231 case %zu%s", i + 1,
              wn < 32 ? " (first 128 bits, as the RFC gives)" : "");
    }
    for (i = 0; i < sizeof(big_cases) / sizeof(big_cases[0]); i++) {
      const struct hmac_big_case *c = &big_cases[i];
      uint8_t key[131], out[GUST_DIGEST_MAX], want[GUST_DIGEST_MAX];
      gust_slice part = gust_slice_cstr(c->data);
      size_t wn = unhex(c->hex, want);
      memset(key, 0xaa, c->key_len);
      is_int(gust_hmac(c->alg, key, c->key_len, &part, 1, out), 0,
             "hmac: %s (%zu-byte key) succeeds", c->name, c->key_len);
      cmp_mem(out, gust_digest_size(c->alg), want, wn, "hmac: %s", c->name);
    }
  }

  if (tap_group("crypto: HMAC keys around the block size")) {
    uint8_t key[200], hk[GUST_DIGEST_MAX], a[GUST_DIGEST_MAX],
        b[GUST_DIGEST_MAX], want[GUST_DIGEST_MAX];
    gust_slice msg = gust_slice_cstr("message"), ks;
    size_t klen;
    int al;
    for (klen = 0; klen < sizeof(key); klen++)
      key[klen] = (uint8_t)(klen * 13 + 1);
    for (al = GUST_SHA1; al <= GUST_SHA256; al++) {
      gust_digest alg = (gust_digest)al;
      size_t d = gust_digest_size(alg);
      const char *an = al == GUST_SHA1 ? "sha1" : "sha256";
      /* RFC 2104: a key longer than the block is replaced by its hash. */
      for (klen = 65; klen <= 200; klen += 45) {
        ks = sl(key, klen);
        gust_hash(alg, &ks, 1, hk);
        gust_hmac(alg, key, klen, &msg, 1, a);
        gust_hmac(alg, hk, d, &msg, 1, b);
        cmp_mem(a, d, b, d, "hmac-%s: %zu-byte key equals its hash as key", an,
                klen);
      }
      /* A 64-byte key is used as is (not hashed). */
      ks = sl(key, 64);
      gust_hash(alg, &ks, 1, hk);
      gust_hmac(alg, key, 64, &msg, 1, a);
      gust_hmac(alg, hk, d, &msg, 1, b);
      ok(memcmp(a, b, d) != 0, "hmac-%s: a 64-byte key is not hashed", an);
      /* Zero padding: a short key equals the key padded with zeros to 64. */
      memset(key + 10, 0, 54);
      gust_hmac(alg, key, 10, &msg, 1, a);
      gust_hmac(alg, key, 64, &msg, 1, b);
      cmp_mem(a, d, b, d, "hmac-%s: a short key is zero-padded", an);
      for (klen = 10; klen < 64; klen++)
        key[klen] = (uint8_t)(klen * 13 + 1);
    }
    is_int(gust_hmac(GUST_SHA1, NULL, 0, NULL, 0, a), 0,
           "hmac: empty key (NULL) and no parts");
    unhex("fbdb1d1b18aa6c08324b7d64b71fb76370690e1d", want);
    cmp_mem(a, 20, want, 20, "hmac-sha1: empty key, empty message");
    is_int(gust_hmac(GUST_SHA256, NULL, 0, NULL, 0, a), 0,
           "hmac-sha256: empty key and message succeeds");
    unhex("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
          want);
    cmp_mem(a, 32, want, 32, "hmac-sha256: empty key, empty message");
  }

  if (tap_group("crypto: invalid arguments")) {
    uint8_t out[GUST_DIGEST_MAX], canary[GUST_DIGEST_MAX];
    gust_slice p = gust_slice_cstr("abc");
    memset(out, 0x5c, sizeof(out));
    memcpy(canary, out, sizeof(out));
    is_int(gust_hash((gust_digest)0, &p, 1, out), GUST_EINVAL,
           "hash: algorithm 0 is GUST_EINVAL");
    is_int(gust_hash((gust_digest)3, &p, 1, out), GUST_EINVAL,
           "hash: algorithm 3 is GUST_EINVAL");
    is_int(gust_hash((gust_digest)-1, &p, 1, out), GUST_EINVAL,
           "hash: algorithm -1 is GUST_EINVAL");
    cmp_mem(out, sizeof(out), canary, sizeof(canary),
            "hash: the output is untouched on GUST_EINVAL");
    is_int(gust_hmac((gust_digest)0, (const uint8_t *)"k", 1, &p, 1, out),
           GUST_EINVAL, "hmac: algorithm 0 is GUST_EINVAL");
    is_int(gust_hmac((gust_digest)7, (const uint8_t *)"k", 1, &p, 1, out),
           GUST_EINVAL, "hmac: algorithm 7 is GUST_EINVAL");
    cmp_mem(out, sizeof(out), canary, sizeof(canary),
            "hmac: the output is untouched on GUST_EINVAL");
    is_int(gust_hash(GUST_SHA1, NULL, 2, out), GUST_EINVAL,
           "hash: NULL parts with n > 0 is GUST_EINVAL");
    is_int(gust_hash(GUST_SHA1, &p, 1, NULL), GUST_EINVAL,
           "hash: NULL output is GUST_EINVAL");
    is_int(gust_hmac(GUST_SHA1, NULL, 5, &p, 1, out), GUST_EINVAL,
           "hmac: NULL key with a length is GUST_EINVAL");
    is_int(gust_hmac(GUST_SHA256, (const uint8_t *)"k", 1, NULL, 1, out),
           GUST_EINVAL, "hmac: NULL parts with n > 0 is GUST_EINVAL");
    is_int(gust_hmac(GUST_SHA256, (const uint8_t *)"k", 1, &p, 1, NULL),
           GUST_EINVAL, "hmac: NULL output is GUST_EINVAL");
  }

  if (tap_group("crypto: gust_const_time_eq")) {
    uint8_t a[32], b[32];
    size_t i;
    int bit, misses = 0;
    for (i = 0; i < sizeof(a); i++)
      a[i] = b[i] = (uint8_t)(i * 5 + 1);
    is_int(gust_const_time_eq(a, 32, b, 32), 1, "const_time_eq: equal");
    is_int(gust_const_time_eq(a, 32, a, 32), 1, "const_time_eq: same pointer");
    is_int(gust_const_time_eq(NULL, 0, NULL, 0), 1,
           "const_time_eq: two empty strings are equal");
    is_int(gust_const_time_eq(a, 0, b, 0), 1,
           "const_time_eq: zero length with pointers is equal");
    is_int(gust_const_time_eq(a, 31, b, 32), 0,
           "const_time_eq: a prefix is not equal");
    is_int(gust_const_time_eq(a, 32, b, 31), 0,
           "const_time_eq: a longer string is not equal");
    is_int(gust_const_time_eq(a, 0, b, 1), 0,
           "const_time_eq: empty vs one byte is not equal");
    b[0] ^= 0x80;
    is_int(gust_const_time_eq(a, 32, b, 32), 0,
           "const_time_eq: first byte differs");
    b[0] ^= 0x80;
    b[31] ^= 0x01;
    is_int(gust_const_time_eq(a, 32, b, 32), 0,
           "const_time_eq: last byte differs");
    b[31] ^= 0x01;
    for (i = 0; i < sizeof(b); i++)
      for (bit = 0; bit < 8; bit++) {
        b[i] ^= (uint8_t)(1u << bit);
        if (gust_const_time_eq(a, 32, b, 32) != 0)
          misses++;
        b[i] ^= (uint8_t)(1u << bit);
      }
    is_int(misses, 0, "const_time_eq: each of the 256 one-bit flips differs");
    is_int(gust_const_time_eq(a, 32, b, 32), 1,
           "const_time_eq: equal again after restoring");
  }

  if (tap_group("crypto: gust_random_bytes")) {
    static uint8_t big[1 << 20];
    uint8_t a[80], b[64];
    size_t i, seen_count = 0;
    int seen[256], nonzero = 0;
    memset(a, 0, sizeof(a));
    memset(a + 64, 0xee, 16);
    memset(b, 0, sizeof(b));
    is_int(gust_random_bytes(a, 64), 0, "random: 64 bytes");
    for (i = 0; i < 64; i++)
      nonzero |= a[i] != 0;
    ok(nonzero, "random: the buffer was filled (not all zero)");
    for (i = 64; i < 80; i++)
      if (a[i] != 0xee)
        break;
    is_int(i, 80, "random: nothing written past n");
    is_int(gust_random_bytes(b, 64), 0, "random: a second call");
    ok(memcmp(a, b, 64) != 0, "random: two calls give different bytes");
    is_int(gust_random_bytes(NULL, 0), 0, "random: n = 0 with NULL is ok");
    is_int(gust_random_bytes(a, 0), 0, "random: n = 0 is ok");
    is_int(gust_random_bytes(NULL, 16), GUST_EINVAL,
           "random: NULL with n > 0 is GUST_EINVAL");
    is_int(gust_random_bytes(big, sizeof(big)), 0, "random: 1 MiB");
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < sizeof(big); i++)
      seen[big[i]]++;
    for (i = 0; i < 256; i++)
      if (seen[i] > 3000 && seen[i] < 5300) /* mean 4096, sd ~64 */
        seen_count++;
    is_int(seen_count, 256,
           "random: every byte value appears about 1/256 of the time");
  }

  if (tap_group("crypto: backend")) {
    const char *n = gust_tls_backend_name(), *v = gust_tls_backend_version();
    ok(n != NULL && (strcmp(n, "openssl") == 0 || strcmp(n, "gnutls") == 0),
       "backend: name is openssl or gnutls (%s)", n ? n : "NULL");
    ok(v != NULL && v[0] != '\0', "backend: version text is not empty (%s)",
       v ? v : "NULL");
    note("backend %s, %s", n, v);
  }

  return done_testing();
}
