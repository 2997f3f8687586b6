/* Signed values: Tornado's secure-cookie formats v1 (HMAC-SHA1) and v2
 * (HMAC-SHA256, length-prefixed fields, key versions). */
#include "config.h"

#include <gust/cookie.h>
#include <gust/crypto.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/base_int.h"
#include "proto/cookie_int.h"

typedef struct secret_entry {
  int version;
  uint8_t *key;
  size_t len;
} secret_entry;

struct gust_secrets {
  const gust_mem *mem;
  int versioned;
  int current;        /* current key version (versioned tables) */
  secret_entry *keys; /* one entry for a single secret */
  size_t nkeys;
};

static int copy_key(const gust_mem *mem, const uint8_t *secret, size_t len,
                    uint8_t **out) {
  uint8_t *k = gust__malloc(mem, len);
  if (k == NULL)
    return GUST_ENOMEM;
  if (len != 0)
    memcpy(k, secret, len);
  *out = k;
  return 0;
}

int gust_secrets_new(gust_secrets **out, const gust_mem *mem,
                     const uint8_t *secret, size_t len) {
  gust_secrets *s;
  if (out == NULL || (secret == NULL && len != 0))
    return GUST_EINVAL;
  mem = gust__mem(mem);
  s = gust__calloc(mem, 1, sizeof(*s));
  if (s == NULL)
    return GUST_ENOMEM;
  s->mem = mem;
  s->keys = gust__calloc(mem, 1, sizeof(*s->keys));
  if (s->keys == NULL || copy_key(mem, secret, len, &s->keys[0].key) != 0) {
    gust__free(mem, s->keys);
    gust__free(mem, s);
    return GUST_ENOMEM;
  }
  s->keys[0].len = len;
  s->nkeys = 1;
  *out = s;
  return 0;
}

int gust_secrets_new_versioned(gust_secrets **out, const gust_mem *mem,
                               int current_version) {
  gust_secrets *s;
  if (out == NULL || current_version < 0)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  s = gust__calloc(mem, 1, sizeof(*s));
  if (s == NULL)
    return GUST_ENOMEM;
  s->mem = mem;
  s->versioned = 1;
  s->current = current_version;
  *out = s;
  return 0;
}

static const secret_entry *find_key(const gust_secrets *s, int64_t version) {
  size_t i;
  for (i = 0; i < s->nkeys; i++)
    if (s->keys[i].version == version)
      return &s->keys[i];
  return NULL;
}

int gust_secrets_add(gust_secrets *secrets, int version, const uint8_t *secret,
                     size_t len) {
  secret_entry *keys;
  uint8_t *k;
  if (secrets == NULL || !secrets->versioned || version < 0 ||
      (secret == NULL && len != 0))
    return GUST_EINVAL;
  if (find_key(secrets, version) != NULL)
    return GUST_EEXIST;
  if (secrets->nkeys >= SIZE_MAX / sizeof(*keys) - 1)
    return GUST_EOVERFLOW;
  if (copy_key(secrets->mem, secret, len, &k) != 0)
    return GUST_ENOMEM;
  keys = gust__realloc(secrets->mem, secrets->keys,
                       (secrets->nkeys + 1) * sizeof(*keys));
  if (keys == NULL) {
    gust__free(secrets->mem, k);
    return GUST_ENOMEM;
  }
  keys[secrets->nkeys].version = version;
  keys[secrets->nkeys].key = k;
  keys[secrets->nkeys].len = len;
  secrets->keys = keys;
  secrets->nkeys++;
  return 0;
}

int gust_secrets_is_versioned(const gust_secrets *secrets) {
  return secrets != NULL && secrets->versioned;
}

static void wipe(uint8_t *p, size_t n) {
  volatile uint8_t *v = p;
  while (n-- > 0)
    *v++ = 0;
}

void gust_secrets_free(gust_secrets *secrets) {
  size_t i;
  if (secrets == NULL)
    return;
  for (i = 0; i < secrets->nkeys; i++) {
    wipe(secrets->keys[i].key, secrets->keys[i].len);
    gust__free(secrets->mem, secrets->keys[i].key);
  }
  gust__free(secrets->mem, secrets->keys);
  gust__free(secrets->mem, secrets);
}

/* ------------------------------------------------------------------ */

static gust_slice mkslice(const void *p, size_t n) {
  gust_slice s;
  s.ptr = (const uint8_t *)p;
  s.len = n;
  return s;
}

/* Computes the lowercase hex signature of `parts` into `hex` (2 * digest
 * size bytes, NUL-terminated). */
static int sign_hex(gust_digest alg, const secret_entry *key,
                    const gust_slice *parts, size_t n, char *hex) {
  static const char digits[] = "0123456789abcdef";
  uint8_t mac[GUST_DIGEST_MAX];
  size_t i, size = gust_digest_size(alg);
  int rc = gust_hmac(alg, key->key, key->len, parts, n, mac);
  if (rc != 0)
    return rc;
  for (i = 0; i < size; i++) {
    hex[2 * i] = digits[mac[i] >> 4];
    hex[2 * i + 1] = digits[mac[i] & 15];
  }
  hex[2 * size] = '\0';
  return 0;
}

static int append_field(gust_buf *out, const void *p, size_t n) {
  int rc = gust_buf_printf(out, "%zu:", n);
  if (rc == 0)
    rc = gust_buf_append(out, p, n);
  if (rc == 0)
    rc = gust_buf_append_byte(out, '|');
  return rc;
}

static int create_v1(const secret_entry *key, const char *name,
                     const uint8_t *value, size_t len, int64_t now,
                     gust_buf *out) {
  size_t start = out->len, b64_at;
  char ts[24], hex[2 * GUST_DIGEST_MAX + 1];
  gust_slice parts[3];
  int rc;
  snprintf(ts, sizeof(ts), "%lld", (long long)now);
  b64_at = out->len;
  rc = gust__b64_encode(out, value, len);
  if (rc != 0)
    return rc;
  parts[0] = gust_slice_cstr(name);
  parts[1] = mkslice(out->ptr + b64_at, out->len - b64_at);
  parts[2] = gust_slice_cstr(ts);
  rc = sign_hex(GUST_SHA1, key, parts, 3, hex);
  if (rc == 0)
    rc = gust_buf_printf(out, "|%s|%s", ts, hex);
  if (rc != 0)
    gust_buf_truncate(out, start);
  return rc;
}

static int create_v2(const secret_entry *key, int key_version, const char *name,
                     const uint8_t *value, size_t len, int64_t now,
                     gust_buf *out) {
  size_t start = out->len;
  char ts[24], kv[16], hex[2 * GUST_DIGEST_MAX + 1];
  gust_buf b64;
  gust_slice part;
  int rc;
  snprintf(ts, sizeof(ts), "%lld", (long long)now);
  snprintf(kv, sizeof(kv), "%d", key_version);
  gust_buf_init(&b64, out->mem);
  rc = gust__b64_encode(&b64, value, len);
  if (rc == 0)
    rc = gust_buf_append_str(out, "2|");
  if (rc == 0)
    rc = append_field(out, kv, strlen(kv));
  if (rc == 0)
    rc = append_field(out, ts, strlen(ts));
  if (rc == 0)
    rc = append_field(out, name, strlen(name));
  if (rc == 0)
    rc = append_field(out, b64.ptr, b64.len);
  if (rc == 0) {
    part = mkslice(out->ptr + start, out->len - start);
    rc = sign_hex(GUST_SHA256, key, &part, 1, hex);
  }
  if (rc == 0)
    rc = gust_buf_append_str(out, hex);
  if (rc != 0)
    gust_buf_truncate(out, start);
  gust_buf_free(&b64);
  return rc;
}

int gust_signed_value_create(const gust_secrets *secrets, const char *name,
                             const uint8_t *value, size_t len, int64_t now,
                             int version, gust_buf *out) {
  const secret_entry *key;
  if (secrets == NULL || name == NULL || out == NULL ||
      (value == NULL && len != 0) || now < 0)
    return GUST_EINVAL;
  if (version == 0)
    version = GUST_SIGNED_VERSION_DEFAULT;
  if (version == 1) {
    if (secrets->versioned)
      return GUST_EINVAL;
    return create_v1(&secrets->keys[0], name, value, len, now, out);
  }
  if (version != 2)
    return GUST_EINVAL;
  if (!secrets->versioned)
    return create_v2(&secrets->keys[0], 0, name, value, len, now, out);
  key = find_key(secrets, secrets->current);
  if (key == NULL)
    return GUST_EKEYVERSION;
  return create_v2(key, secrets->current, name, value, len, now, out);
}

/* Tornado's version detection: "N|" with 1 <= N <= 999, else v1. */
static int64_t detect_version(const uint8_t *s, size_t n) {
  int64_t v;
  size_t plen;
  if (!gust__version_prefix(s, n, &v, &plen) || v > 999)
    return 1;
  return v;
}

static int expired(int64_t ts, int64_t now, double max_age_days) {
  return (double)ts < (double)now - max_age_days * 86400.0;
}

static int decode_v1(const secret_entry *key, const char *name,
                     const uint8_t *s, size_t n, int64_t now,
                     double max_age_days, gust_buf *value_out) {
  const uint8_t *bar1, *bar2;
  char hex[2 * GUST_DIGEST_MAX + 1];
  gust_slice parts[3], b64, tsf, sig;
  int64_t ts;
  int rc;
  bar1 = memchr(s, '|', n);
  if (bar1 == NULL)
    return GUST_ESIGNED_MALFORMED;
  bar2 = memchr(bar1 + 1, '|', (size_t)(s + n - bar1 - 1));
  if (bar2 == NULL || memchr(bar2 + 1, '|', (size_t)(s + n - bar2 - 1)))
    return GUST_ESIGNED_MALFORMED;
  b64 = mkslice(s, (size_t)(bar1 - s));
  tsf = mkslice(bar1 + 1, (size_t)(bar2 - bar1 - 1));
  sig = mkslice(bar2 + 1, (size_t)(s + n - bar2 - 1));
  parts[0] = gust_slice_cstr(name);
  parts[1] = b64;
  parts[2] = tsf;
  rc = sign_hex(GUST_SHA1, key, parts, 3, hex);
  if (rc != 0)
    return rc;
  if (!gust_const_time_eq(sig.ptr, sig.len, hex, strlen(hex)))
    return GUST_ESIGNATURE;
  if (gust__parse_digits(tsf.ptr, tsf.len, &ts) != 0)
    return GUST_ESIGNED_MALFORMED;
  if (expired(ts, now, max_age_days))
    return GUST_EEXPIRED;
  if (now <= INT64_MAX - GUST_SIGNED_FUTURE_SLACK_SEC &&
      ts > now + GUST_SIGNED_FUTURE_SLACK_SEC)
    return GUST_ESIGNED_FUTURE;
  if (tsf.ptr[0] == '0')
    return GUST_ESIGNED_TAMPERED;
  rc = gust__b64_decode(value_out, b64.ptr, b64.len);
  return rc == GUST_ESYNTAX ? GUST_ESIGNED_MALFORMED : rc;
}

/* Reads one `len ":" bytes "|"` field at *p, advancing *p. */
static int read_field(const uint8_t **p, const uint8_t *end, gust_slice *f) {
  const uint8_t *colon = memchr(*p, ':', (size_t)(end - *p));
  int64_t flen;
  if (colon == NULL || gust__parse_digits(*p, (size_t)(colon - *p), &flen) != 0)
    return GUST_ESIGNED_MALFORMED;
  if ((uint64_t)flen >= (uint64_t)(end - colon - 1) || colon[1 + flen] != '|')
    return GUST_ESIGNED_MALFORMED;
  *f = mkslice(colon + 1, (size_t)flen);
  *p = colon + 1 + flen + 1;
  return 0;
}

typedef struct v2_fields {
  gust_slice key_version, ts, name, value, sig;
  size_t signed_len;
} v2_fields;

static int parse_v2(const uint8_t *s, size_t n, v2_fields *f) {
  const uint8_t *p = s + 2, *end = s + n;
  int rc;
  if (n < 2)
    return GUST_ESIGNED_MALFORMED;
  if ((rc = read_field(&p, end, &f->key_version)) != 0 ||
      (rc = read_field(&p, end, &f->ts)) != 0 ||
      (rc = read_field(&p, end, &f->name)) != 0 ||
      (rc = read_field(&p, end, &f->value)) != 0)
    return rc;
  f->signed_len = (size_t)(p - s);
  f->sig = mkslice(p, (size_t)(end - p));
  return 0;
}

static int decode_v2(const gust_secrets *secrets, const char *name,
                     const uint8_t *s, size_t n, int64_t now,
                     double max_age_days, gust_buf *value_out) {
  v2_fields f;
  const secret_entry *key = &secrets->keys[0];
  char hex[2 * GUST_DIGEST_MAX + 1];
  gust_slice part;
  int64_t kv, ts;
  int rc = parse_v2(s, n, &f);
  if (rc != 0)
    return rc;
  if (gust__parse_digits(f.key_version.ptr, f.key_version.len, &kv) != 0)
    return GUST_ESIGNED_MALFORMED;
  if (secrets->versioned) {
    key = kv <= INT_MAX ? find_key(secrets, kv) : NULL;
    if (key == NULL)
      return GUST_EKEYVERSION;
  }
  part = mkslice(s, f.signed_len);
  rc = sign_hex(GUST_SHA256, key, &part, 1, hex);
  if (rc != 0)
    return rc;
  if (!gust_const_time_eq(f.sig.ptr, f.sig.len, hex, strlen(hex)))
    return GUST_ESIGNATURE;
  if (!gust_slice_eq(f.name, gust_slice_cstr(name)))
    return GUST_ESIGNATURE;
  if (gust__parse_digits(f.ts.ptr, f.ts.len, &ts) != 0)
    return GUST_ESIGNED_MALFORMED;
  if (expired(ts, now, max_age_days))
    return GUST_EEXPIRED;
  rc = gust__b64_decode(value_out, f.value.ptr, f.value.len);
  return rc == GUST_ESYNTAX ? GUST_ESIGNED_MALFORMED : rc;
}

int gust_signed_value_decode(const gust_secrets *secrets, const char *name,
                             const char *signed_value, size_t len, int64_t now,
                             double max_age_days, int min_version,
                             gust_buf *value_out) {
  const uint8_t *s = (const uint8_t *)signed_value;
  int64_t version;
  if (secrets == NULL || name == NULL || value_out == NULL ||
      (signed_value == NULL && len != 0) || isnan(max_age_days) ||
      min_version > 2)
    return GUST_EINVAL;
  if (min_version < 1)
    min_version = GUST_SIGNED_MIN_VERSION;
  if (len == 0)
    return GUST_ESIGNED_VERSION;
  version = detect_version(s, len);
  if (version < min_version)
    return GUST_ESIGNED_VERSION;
  if (version == 1) {
    if (secrets->versioned)
      return GUST_ESIGNED_VERSION;
    return decode_v1(&secrets->keys[0], name, s, len, now, max_age_days,
                     value_out);
  }
  if (version == 2)
    return decode_v2(secrets, name, s, len, now, max_age_days, value_out);
  return GUST_ESIGNED_VERSION;
}

int gust_signed_value_key_version(const char *signed_value, size_t len,
                                  int *key_version) {
  const uint8_t *s = (const uint8_t *)signed_value;
  v2_fields f;
  int64_t version, kv;
  if ((signed_value == NULL && len != 0) || key_version == NULL)
    return GUST_EINVAL;
  version = detect_version(s, len);
  if (version < 2)
    return GUST_ENOTFOUND;
  if (version != 2)
    return GUST_ESIGNED_VERSION;
  if (parse_v2(s, len, &f) != 0 ||
      gust__parse_digits(f.key_version.ptr, f.key_version.len, &kv) != 0 ||
      kv > INT_MAX)
    return GUST_ESIGNED_MALFORMED;
  *key_version = (int)kv;
  return 0;
}
