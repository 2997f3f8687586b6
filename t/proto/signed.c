/* Tests of signed values: Tornado's vectors for v1 and v2, tampering, name
 * swapping, expiry, key versions, and allocation failures. */
#include <gust/cookie.h>

#include <stdio.h>
#include <string.h>

#include "../tap.h"

#define PRESENT   1300000000
#define SECRET    "It's a secret to everybody"
#define V1_VALUE  "dmFsdWU=|1300000000|31c934969f53e48164c50768b40cbd7e2daaaa4f"
#define V2_PREFIX "2|1:0|10:1300000000|3:key|8:dmFsdWU=|"
#define V2_SIG                                                                 \
  "3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152"

static gust_secrets *single(const char *secret) {
  gust_secrets *s = NULL;
  if (gust_secrets_new(&s, NULL, (const uint8_t *)secret, strlen(secret)) != 0)
    bail_out("gust_secrets_new failed");
  return s;
}

/* Builds a versioned table from "v=key" strings. */
static gust_secrets *versioned(int current, const char *const *keys, int n) {
  gust_secrets *s = NULL;
  int i;
  if (gust_secrets_new_versioned(&s, NULL, current) != 0)
    bail_out("gust_secrets_new_versioned failed");
  for (i = 0; i < n; i++)
    if (gust_secrets_add(s, i, (const uint8_t *)keys[i], strlen(keys[i])) != 0)
      bail_out("gust_secrets_add failed");
  return s;
}

static int decode(const gust_secrets *s, const char *name, const char *sv,
                  int64_t now, double max_age, int min_version, gust_buf *out) {
  gust_buf_clear(out);
  return gust_signed_value_decode(s, name, sv, strlen(sv), now, max_age,
                                  min_version, out);
}

static void test_known_values(void) {
  gust_secrets *s = single(SECRET);
  gust_buf out;
  gust_buf_init(&out, NULL);
  is_int(gust_signed_value_create(s, "key", (const uint8_t *)"value", 5,
                                  PRESENT, 1, &out),
         0, "known values: v1 create");
  is_str((const char *)out.ptr, V1_VALUE, "known values: v1 bytes");
  is_int(decode(s, "key", V1_VALUE, PRESENT, 31, 1, &out), 0,
         "known values: v1 decodes");
  cmp_mem(out.ptr, out.len, "value", 5, "known values: v1 payload");
  gust_buf_clear(&out);
  is_int(gust_signed_value_create(s, "key", (const uint8_t *)"value", 5,
                                  PRESENT, 2, &out),
         0, "known values: v2 create");
  is_str((const char *)out.ptr, V2_PREFIX V2_SIG, "known values: v2 bytes");
  gust_buf_clear(&out);
  is_int(gust_signed_value_create(s, "key", (const uint8_t *)"value", 5,
                                  PRESENT, 0, &out),
         0, "known values: default version");
  is_str((const char *)out.ptr, V2_PREFIX V2_SIG,
         "known values: the default version is 2");
  is_int(decode(s, "key", V2_PREFIX V2_SIG, PRESENT, 31, 0, &out), 0,
         "known values: v2 decodes");
  cmp_mem(out.ptr, out.len, "value", 5, "known values: v2 payload");
  /* Appending: the output goes after what the buffer holds. */
  gust_buf_clear(&out);
  gust_buf_append_str(&out, "x=");
  gust_signed_value_create(s, "key", (const uint8_t *)"value", 5, PRESENT, 2,
                           &out);
  is_str((const char *)out.ptr, "x=" V2_PREFIX V2_SIG,
         "known values: create appends");
  gust_buf_free(&out);
  gust_secrets_free(s);
}

static void test_name_swap(void) {
  gust_secrets *s = single(SECRET);
  gust_buf out, v;
  int version;
  for (version = 1; version <= 2; version++) {
    gust_buf_init(&out, NULL);
    gust_buf_init(&v, NULL);
    gust_signed_value_create(s, "key1", (const uint8_t *)"value", 5, PRESENT,
                             version, &out);
    is_int(decode(s, "key2", (const char *)out.ptr, PRESENT, 31, 0, &v),
           GUST_ESIGNATURE, "name swap: v%d value for key1 refused as key2",
           version);
    is_int(v.len, 0, "name swap: v%d output untouched", version);
    is_int(decode(s, "key1", (const char *)out.ptr, PRESENT, 31, 0, &v), 0,
           "name swap: v%d value accepted under its own name", version);
    gust_buf_free(&out);
    gust_buf_free(&v);
  }
  gust_secrets_free(s);
}

static void test_expired(void) {
  gust_secrets *s = single(SECRET);
  gust_buf out, v;
  int version;
  int64_t signed_at = PRESENT - 32 * 86400;
  for (version = 1; version <= 2; version++) {
    gust_buf_init(&out, NULL);
    gust_buf_init(&v, NULL);
    gust_signed_value_create(s, "key", (const uint8_t *)"value", 5, signed_at,
                             version, &out);
    is_int(decode(s, "key", (const char *)out.ptr, signed_at, 31, 0, &v), 0,
           "expiry: v%d read at signing time", version);
    is_int(decode(s, "key", (const char *)out.ptr, PRESENT, 31, 0, &v),
           GUST_EEXPIRED, "expiry: v%d read 32 days later", version);
    is_int(decode(s, "key", (const char *)out.ptr, PRESENT, 32.5, 0, &v), 0,
           "expiry: v%d fractional max_age_days 32.5 accepts it", version);
    is_int(decode(s, "key", (const char *)out.ptr, PRESENT, 31.99, 0, &v),
           GUST_EEXPIRED, "expiry: v%d max_age_days 31.99 refuses it", version);
    gust_buf_free(&out);
    gust_buf_free(&v);
  }
  gust_secrets_free(s);
}

static void test_payload_tampering(void) {
  static const struct {
    const char *prefix;
    int want;
    const char *what;
  } cases[] = {
      {V2_PREFIX, 0, "valid prefix"},
      {"2|1:1|10:1300000000|3:key|8:dmFsdWU=|", GUST_ESIGNATURE,
       "key version changed"},
      {"2|1:0|10:130000000|3:key|8:dmFsdWU=|", GUST_ESIGNED_MALFORMED,
       "length mismatch (field too short)"},
      {"2|1:0|10:1300000000|3:keey|8:dmFsdWU=|", GUST_ESIGNED_MALFORMED,
       "length mismatch (field too long)"},
  };
  gust_secrets *s = single(SECRET);
  gust_buf v;
  char text[256];
  size_t i;
  gust_buf_init(&v, NULL);
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    snprintf(text, sizeof(text), "%s%s", cases[i].prefix, V2_SIG);
    is_int(decode(s, "key", text, PRESENT, 31, 0, &v), cases[i].want,
           "payload tampering: %s", cases[i].what);
  }
  gust_buf_free(&v);
  gust_secrets_free(s);
}

static void test_signature_tampering(void) {
  static const struct {
    const char *sig;
    int want;
    const char *what;
  } cases[] = {
      {V2_SIG, 0, "valid signature"},
      {"00000000000000000000000000000000", GUST_ESIGNATURE, "all zeros"},
      {"4d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152",
       GUST_ESIGNATURE, "first character changed"},
      {"3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e153",
       GUST_ESIGNATURE, "last character changed"},
      {"3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e15",
       GUST_ESIGNATURE, "truncated"},
      {"3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e1538",
       GUST_ESIGNATURE, "lengthened"},
      {"3D4E60B996FF9C5D5788E333A0CBA6F238A22C6C0F94788870E1A9ECD482E152",
       GUST_ESIGNATURE, "uppercase hex"},
  };
  gust_secrets *s = single(SECRET);
  gust_buf v;
  char text[256];
  size_t i;
  gust_buf_init(&v, NULL);
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    snprintf(text, sizeof(text), "%s%s", V2_PREFIX, cases[i].sig);
    is_int(decode(s, "key", text, PRESENT, 31, 0, &v), cases[i].want,
           "signature tampering: %s", cases[i].what);
  }
  gust_buf_free(&v);
  gust_secrets_free(s);
}

static void test_non_ascii(void) {
  gust_secrets *s = single(SECRET);
  gust_buf out, v;
  int version;
  const uint8_t value[] = {0xe9};
  for (version = 1; version <= 2; version++) {
    gust_buf_init(&out, NULL);
    gust_buf_init(&v, NULL);
    gust_signed_value_create(s, "key", value, 1, PRESENT, version, &out);
    is_int(decode(s, "key", (const char *)out.ptr, PRESENT, 31, 0, &v), 0,
           "non-ascii: v%d round trip", version);
    cmp_mem(v.ptr, v.len, value, 1, "non-ascii: v%d byte 0xe9 back", version);
    gust_buf_free(&out);
    gust_buf_free(&v);
  }
  gust_secrets_free(s);
}

static const char *const KEYS2[] = {"ajklasdf0ojaisdf", "aslkjasaolwkjsdf"};
static const char *const KEYS3[] = {"asdfbasdf", "12312312", "2342342"};

static void test_key_versions(void) {
  gust_secrets *s, *s0, *missing0;
  gust_buf out, v;
  int kv = -1;
  const uint8_t e9[] = {0xe9};
  gust_buf_init(&out, NULL);
  gust_buf_init(&v, NULL);

  s = versioned(1, KEYS3, 3);
  ok(gust_secrets_is_versioned(s), "key versions: table is versioned");
  is_int(gust_signed_value_create(s, "key", e9, 1, PRESENT, 2, &out), 0,
         "key versions: create with key 1");
  is_str((const char *)out.ptr,
         "2|1:1|10:1300000000|3:key|4:6Q==|"
         "75fed969da3a9a9d3f1a48f2e97dbc8a875c97fec091ae0b07c176494da223fc",
         "key versions: key 1 vector");
  is_int(gust_signed_value_key_version((const char *)out.ptr, out.len, &kv), 0,
         "key versions: retrieval succeeds");
  is_int(kv, 1, "key versions: embedded version is 1");
  is_int(decode(s, "key", (const char *)out.ptr, PRESENT, 31, 0, &v), 0,
         "key versions: decodes with the table");
  cmp_mem(v.ptr, v.len, e9, 1, "key versions: payload back");
  is_int(gust_signed_value_create(s, "key", e9, 1, PRESENT, 1, &out),
         GUST_EINVAL, "key versions: v1 with a table is a usage error");
  gust_buf_clear(&out);

  s0 = versioned(0, KEYS3, 3);
  gust_signed_value_create(s0, "key", e9, 1, PRESENT, 2, &out);
  is_str((const char *)out.ptr,
         "2|1:0|10:1300000000|3:key|4:6Q==|"
         "c81b42904a0a85cec931b92e203e2968858d2ac0f6a09d9fde365ed751cb77bc",
         "key versions: key 0 vector");
  is_int(decode(s, "key", (const char *)out.ptr, PRESENT, 31, 0, &v), 0,
         "key versions: old key still read after switching version");

  /* Tornado's test_key_versioning_invalid_key: key 0 removed. */
  if (gust_secrets_new_versioned(&missing0, NULL, 1) != 0 ||
      gust_secrets_add(missing0, 1, (const uint8_t *)KEYS3[1], 8) != 0 ||
      gust_secrets_add(missing0, 2, (const uint8_t *)KEYS3[2], 7) != 0)
    bail_out("table");
  is_int(decode(missing0, "key", (const char *)out.ptr, PRESENT, 31, 0, &v),
         GUST_EKEYVERSION, "key versions: unknown key version refused");
  gust_secrets_free(missing0);
  gust_buf_clear(&out);

  /* Round trips with Tornado's other table, default and non-default key. */
  gust_secrets_free(s);
  gust_secrets_free(s0);
  s = versioned(0, KEYS2, 2);
  gust_signed_value_create(s, "key", (const uint8_t *)"foo", 3, PRESENT, 2,
                           &out);
  is_int(decode(s, "key", (const char *)out.ptr, PRESENT, 31, 0, &v), 0,
         "key versions: read/write default key");
  cmp_mem(v.ptr, v.len, "foo", 3, "key versions: default key payload");
  gust_secrets_free(s);
  s = versioned(1, KEYS2, 2);
  is_int(decode(s, "key", (const char *)out.ptr, PRESENT, 31, 0, &v), 0,
         "key versions: value from key 0 read after rotation to 1");
  gust_buf_clear(&out);
  gust_signed_value_create(s, "key", (const uint8_t *)"foo", 3, PRESENT, 2,
                           &out);
  ok(strncmp((const char *)out.ptr, "2|1:1|", 6) == 0,
     "key versions: non-default key written as 1:1");
  is_int(decode(s, "key", (const char *)out.ptr, PRESENT, 31, 0, &v), 0,
         "key versions: read/write non-default key");
  gust_secrets_free(s);

  /* A value signed with a single secret and read with a table. */
  s = single(SECRET);
  s0 = versioned(0, KEYS2, 2);
  is_int(decode(s0, "key", V1_VALUE, PRESENT, 31, 0, &v), GUST_ESIGNED_VERSION,
         "key versions: table refuses a v1 value");
  is_int(gust_signed_value_key_version(V1_VALUE, strlen(V1_VALUE), &kv),
         GUST_ENOTFOUND, "key versions: v1 has no key version");
  is_int(gust_signed_value_key_version("2|1:x|", 6, &kv),
         GUST_ESIGNED_MALFORMED, "key versions: malformed v2");
  is_int(gust_signed_value_key_version("", 0, &kv), GUST_ENOTFOUND,
         "key versions: empty value has none");
  is_int(
      gust_signed_value_key_version("2|2:10|10:1300000000|3:key|0:|x", 31, &kv),
      0, "key versions: two-digit version field");
  is_int(kv, 10, "key versions: 2:10 reads 10");
  is_int(gust_signed_value_key_version("3|1:0|", 6, &kv), GUST_ESIGNED_VERSION,
         "key versions: version 3 refused");
  gust_secrets_free(s);
  gust_secrets_free(s0);

  /* Current version without a key. */
  s = versioned(5, KEYS2, 2);
  is_int(gust_signed_value_create(s, "key", e9, 1, PRESENT, 2, &out),
         GUST_EKEYVERSION, "key versions: current version without key");
  is_int(gust_secrets_add(s, 1, (const uint8_t *)"x", 1), GUST_EEXIST,
         "key versions: duplicate version refused");
  is_int(gust_secrets_add(s, -1, (const uint8_t *)"x", 1), GUST_EINVAL,
         "key versions: negative version refused");
  gust_secrets_free(s);
  s = single("x");
  is_int(gust_secrets_add(s, 1, (const uint8_t *)"x", 1), GUST_EINVAL,
         "key versions: single secret takes no versions");
  gust_secrets_free(s);
  gust_buf_free(&out);
  gust_buf_free(&v);
}

static void test_v1_digit_shift(void) {
  /* base64 of d7 6d f8 e7 ae fc is "12345678". */
  const uint8_t payload[] = {0xd7, 0x6d, 0xf8, 0xe7, 0xae, 0xfc};
  gust_secrets *s = single(SECRET);
  gust_buf out, v, forged;
  const char *bar, *bar2;
  gust_buf_init(&out, NULL);
  gust_buf_init(&v, NULL);
  gust_buf_init(&forged, NULL);
  gust_signed_value_create(s, "foo", payload, 6, PRESENT, 1, &out);
  ok(strncmp((const char *)out.ptr, "12345678|1300000000|", 20) == 0,
     "v1 digit shift: payload encodes to 12345678");
  bar = strchr((const char *)out.ptr, '|');
  bar2 = strchr(bar + 1, '|');
  gust_buf_printf(&forged, "1234|5678%.*s%s", (int)(bar2 - bar - 1), bar + 1,
                  bar2);
  is_int(decode(s, "foo", (const char *)forged.ptr, PRESENT, 31, 1, &v),
         GUST_ESIGNED_FUTURE,
         "v1 digit shift: re-split value fails the future-timestamp check");
  is_int(decode(s, "foo", (const char *)out.ptr, PRESENT, 31, 1, &v), 0,
         "v1 digit shift: the genuine value decodes");
  gust_buf_free(&out);
  gust_buf_free(&v);
  gust_buf_free(&forged);
  gust_secrets_free(s);
}

static void test_versions(void) {
  gust_secrets *s = single(SECRET);
  gust_buf v, out;
  gust_buf_init(&v, NULL);
  gust_buf_init(&out, NULL);
  is_int(decode(s, "key", V1_VALUE, PRESENT, 31, 2, &v), GUST_ESIGNED_VERSION,
         "versions: min_version 2 refuses v1");
  is_int(decode(s, "key", V2_PREFIX V2_SIG, PRESENT, 31, 2, &v), 0,
         "versions: min_version 2 accepts v2");
  is_int(decode(s, "key", V2_PREFIX V2_SIG, PRESENT, 31, 3, &v), GUST_EINVAL,
         "versions: min_version 3 is a usage error");
  is_int(decode(s, "key", "", PRESENT, 31, 1, &v), GUST_ESIGNED_VERSION,
         "versions: empty value refused");
  is_int(gust_signed_value_decode(s, "key", NULL, 0, PRESENT, 31, 1, &v),
         GUST_ESIGNED_VERSION, "versions: NULL empty value refused");
  is_int(decode(s, "key", "3|1:0|10:1300000000|3:key|8:dmFsdWU=|" V2_SIG,
                PRESENT, 31, 1, &v),
         GUST_ESIGNED_VERSION, "versions: version 3 refused");
  is_int(decode(s, "key", "999|x", PRESENT, 31, 1, &v), GUST_ESIGNED_VERSION,
         "versions: version 999 refused");
  is_int(decode(s, "key", "1000|x|y", PRESENT, 31, 1, &v), GUST_ESIGNATURE,
         "versions: 1000| is read as v1");
  is_int(decode(s, "key", "2|1:0\n|y", PRESENT, 31, 1, &v), GUST_ESIGNATURE,
         "versions: an inner newline makes the value v1, as in Python");
  is_int(decode(s, "key", "dmFsdWU=|1300000000", PRESENT, 31, 1, &v),
         GUST_ESIGNED_MALFORMED, "v1: two parts refused");
  is_int(decode(s, "key", "a|b|c|d", PRESENT, 31, 1, &v),
         GUST_ESIGNED_MALFORMED, "v1: four parts refused");
  is_int(decode(s, "key", "2|1:0|10:1300000000|3:key", PRESENT, 31, 1, &v),
         GUST_ESIGNED_MALFORMED, "v2: missing fields refused");
  is_int(decode(s, "key", "2|+1:0|", PRESENT, 31, 1, &v),
         GUST_ESIGNED_MALFORMED, "v2: sign in a length refused");
  is_int(decode(s, "key", "2|99999999999999999999:0|", PRESENT, 31, 1, &v),
         GUST_ESIGNED_MALFORMED, "v2: overflowing length refused");
  is_int(decode(s, "key", "2|", PRESENT, 31, 1, &v), GUST_ESIGNED_MALFORMED,
         "v2: bare prefix refused");
  /* Leading zero in a v1 timestamp with a valid signature. */
  gust_signed_value_create(s, "key", (const uint8_t *)"ab", 2, 1, 1, &out);
  is_str((const char *)out.ptr,
         "YWI=|1|d078e73916f0df3b026a121cc9c66d2c84510bbc",
         "v1: small timestamp");
  is_int(decode(s, "key", (const char *)out.ptr, 1, 31, 1, &v), 0,
         "v1: small timestamp decodes");
  gust_buf_free(&v);
  gust_buf_free(&out);
  gust_secrets_free(s);
}

static void test_bad_payloads(void) {
  /* Values whose signatures are genuine (computed with the secret) but
   * whose payload or timestamp is not what a producer writes. */
  static const struct {
    const char *text;
    const char *what;
  } cases[] = {
      {"dmFsdWU|1300000000|6d812482246b75153c00b891c56a46dda6ee0054",
       "v1 base64 without padding"},
      {"dm Fsd=|1300000000|d7e1a1ae2591c9a695ed1f2f447cc0f36fe97b9e",
       "v1 base64 with a blank"},
      {"dm$sdWU=|1300000000|f1085198bac555d6021216e982bcdfda75dcc3b3",
       "v1 base64 with a non-alphabet byte"},
      {"====|1300000000|3b4bced328e9814a99a82b37162fa2207334b70c",
       "v1 base64 of padding only"},
      {"2|1:0|10:1300000000|3:key|7:dmFsdWU|"
       "e3253d8fe2bf1668442f364d9906445853d13aa6717b388dccb134dd210672e9",
       "v2 base64 without padding"},
      {"2|1:0|10:1300000000|3:key|8:dm$sdWU=|"
       "3021c32357a19a01231615e6017b19de069029866ffdc90351ab865daca48f3c",
       "v2 base64 with a non-alphabet byte"},
      {"2|1:0|10:13000000x0|3:key|0:|"
       "3157711537759f28900bbf0fbe526b74443e0cd5fc3283cdae696882e4eba6d8",
       "v2 non-digit timestamp"},
  };
  gust_secrets *s = single(SECRET);
  gust_buf v;
  size_t i;
  gust_buf_init(&v, NULL);
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    is_int(decode(s, "key", cases[i].text, PRESENT, 31, 1, &v),
           GUST_ESIGNED_MALFORMED, "bad payload: %s", cases[i].what);
  is_int(v.len, 0, "bad payload: output untouched");
  gust_buf_free(&v);
  gust_secrets_free(s);
}

static void test_failmem(void) {
  gust_failmem fm;
  gust_secrets *s;
  gust_buf out;
  unsigned long i;
  int rc, saw_ok = 0, bad = 0;
  for (i = 1; i < 40 && !saw_ok; i++) {
    gust_failmem_init(&fm, NULL);
    fm.fail_at = i;
    s = NULL;
    rc = gust_secrets_new_versioned(&s, &fm.mem, 1);
    if (rc == 0)
      rc = gust_secrets_add(s, 0, (const uint8_t *)"k0", 2);
    if (rc == 0)
      rc = gust_secrets_add(s, 1, (const uint8_t *)"k1", 2);
    gust_buf_init(&out, &fm.mem);
    if (rc == 0)
      rc = gust_signed_value_create(s, "key", (const uint8_t *)"value", 5,
                                    PRESENT, 2, &out);
    if (rc == 0) {
      gust_buf dec;
      gust_buf_init(&dec, &fm.mem);
      rc = gust_signed_value_decode(s, "key", (const char *)out.ptr, out.len,
                                    PRESENT, 31, 1, &dec);
      if (rc == 0 && (dec.len != 5 || memcmp(dec.ptr, "value", 5) != 0))
        bad++;
      gust_buf_free(&dec);
    }
    if (rc == 0)
      saw_ok = 1;
    else if (rc != GUST_ENOMEM)
      bad++;
    gust_buf_free(&out);
    gust_secrets_free(s);
    if (fm.live_blocks != 0)
      bad++;
  }
  ok(saw_ok, "failmem: the sequence succeeds once allocations suffice");
  is_int(bad, 0, "failmem: every failure is GUST_ENOMEM and nothing leaks");
}

int main(void) {
  if (tap_group("known"))
    test_known_values();
  if (tap_group("name_swap"))
    test_name_swap();
  if (tap_group("expired"))
    test_expired();
  if (tap_group("payload"))
    test_payload_tampering();
  if (tap_group("signature"))
    test_signature_tampering();
  if (tap_group("non_ascii"))
    test_non_ascii();
  if (tap_group("key_versions"))
    test_key_versions();
  if (tap_group("digit_shift"))
    test_v1_digit_shift();
  if (tap_group("versions"))
    test_versions();
  if (tap_group("base64"))
    test_bad_payloads();
  if (tap_group("failmem"))
    test_failmem();
  return done_testing();
}
