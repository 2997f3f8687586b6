/* Tests of query-string / urlencoded form iteration against Python's
 * parse_qsl(keep_blank_values=True). */
#include <gust/httputil.h>

#include <string.h>

#include "../tap.h"

static void test_fields(void) {
  static const char *const want[][2] = {
      {"a", "1"},   {"b", ""},      {"c", ""},  {"", "d"},
      {"e", "f=g"}, {"h i", "j k"}, {"a", "2"}, {";x", "1"},
  };
  const char *qs = "a=1&&b=&c&=d&e=f=g&h+i=j%20k&a=2&;x=1";
  gust_form_iter it;
  gust_buf name, value;
  size_t i = 0;
  int rc;
  gust_buf_init(&name, NULL);
  gust_buf_init(&value, NULL);
  gust_form_iter_init(&it, (const uint8_t *)qs, strlen(qs));
  while ((rc = gust_form_next(&it, &name, &value)) == 1) {
    if (i < sizeof(want) / sizeof(want[0])) {
      cmp_mem(name.ptr, name.len, want[i][0], strlen(want[i][0]),
              "fields: name %zu", i);
      cmp_mem(value.ptr, value.len, want[i][1], strlen(want[i][1]),
              "fields: value %zu", i);
    }
    i++;
  }
  is_int(rc, 0, "fields: iteration ends cleanly");
  is_int(i, 8, "fields: eight fields as parse_qsl gives");
  is_int(gust_form_next(&it, &name, &value), 0, "fields: end is sticky");
  gust_form_iter_init(&it, (const uint8_t *)"", 0);
  is_int(gust_form_next(&it, &name, &value), 0, "fields: empty input");
  gust_form_iter_init(&it, (const uint8_t *)"&&&", 3);
  is_int(gust_form_next(&it, &name, &value), 0, "fields: only separators");
  gust_form_iter_init(&it, (const uint8_t *)"x=%FF%00", 8);
  is_int(gust_form_next(&it, &name, &value), 1, "fields: binary value");
  cmp_mem(value.ptr, value.len, "\xff\0", 2, "fields: bytes decoded");
  gust_buf_free(&name);
  gust_buf_free(&value);
}

int main(void) {
  if (tap_group("fields"))
    test_fields();
  return done_testing();
}
