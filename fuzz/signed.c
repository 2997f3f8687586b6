/* Fuzz target for the signed-value decoder (single secret and a versioned
 * table), the key-version reader and the XSRF token decoder. */
#include <gust/cookie.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gust_secrets *single_secret, *table;

static void setup(void) {
  if (single_secret != NULL)
    return;
  if (gust_secrets_new(&single_secret, NULL,
                       (const uint8_t *)"It's a secret to everybody",
                       26) != 0 ||
      gust_secrets_new_versioned(&table, NULL, 1) != 0 ||
      gust_secrets_add(table, 0, (const uint8_t *)"asdfbasdf", 9) != 0 ||
      gust_secrets_add(table, 1, (const uint8_t *)"12312312", 8) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gust_buf out;
  int min_version, kv = -1, rc, v = 0;
  int64_t now = 1300000000, ts = 0;
  setup();
  if (size == 0)
    return 0;
  min_version = data[0] % 3; /* 0 (default), 1, 2 */
  data++;
  size--;
  gust_buf_init(&out, NULL);
  rc = gust_signed_value_decode(single_secret, "key", (const char *)data, size,
                                now, 31, min_version, &out);
  if (rc != 0 && out.len != 0)
    abort(); /* a failed decode leaves the output untouched */
  gust_buf_clear(&out);
  rc = gust_signed_value_decode(table, "key", (const char *)data, size, now, 31,
                                min_version, &out);
  if (rc == 0 &&
      gust_signed_value_key_version((const char *)data, size, &kv) != 0)
    abort(); /* a value the table accepts carries a key version */
  gust_buf_clear(&out);
  rc = gust_xsrf_token_decode((const char *)data, size, &out, &v, &ts);
  if (rc == 0 && v != 1 && v != 2)
    abort();
  if (rc != 0 && out.len != 0)
    abort();
  gust_buf_free(&out);
  return 0;
}
