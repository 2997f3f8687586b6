/* Fuzz target for the urlencoded form iterator and the escaping
 * functions: fields never exceed the input, and escaping then unescaping
 * (URL, both forms; XHTML) gives every field back unchanged. */
#include <gust/httputil.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const gust_buf *v, gust_buf *e, gust_buf *back) {
  int plus;
  for (plus = 0; plus <= 1; plus++) {
    gust_buf_clear(e);
    gust_buf_clear(back);
    if (gust_url_escape(v->ptr, v->len, plus, e) != 0 ||
        gust_url_unescape(e->ptr, e->len, plus, back) != 0)
      continue;
    if (back->len != v->len ||
        (v->len != 0 && memcmp(back->ptr, v->ptr, v->len) != 0))
      abort();
  }
  gust_buf_clear(e);
  gust_buf_clear(back);
  if (gust_xhtml_escape(v->ptr, v->len, e) == 0 &&
      gust_xhtml_unescape(e->ptr, e->len, back) == 0 &&
      (back->len != v->len ||
       (v->len != 0 && memcmp(back->ptr, v->ptr, v->len) != 0)))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gust_form_iter it;
  gust_buf name, value, e, back;
  int rc;
  gust_buf_init(&name, NULL);
  gust_buf_init(&value, NULL);
  gust_buf_init(&e, NULL);
  gust_buf_init(&back, NULL);
  gust_form_iter_init(&it, data, size);
  while ((rc = gust_form_next(&it, &name, &value)) == 1) {
    if (name.len + value.len > size)
      abort();
    round_trip(&name, &e, &back);
    round_trip(&value, &e, &back);
  }
  /* The whole input through the unescapers must not misbehave either. */
  gust_buf_clear(&e);
  (void)gust_xhtml_unescape(data, size, &e);
  gust_buf_clear(&e);
  (void)gust_url_unescape(data, size, 1, &e);
  gust_buf_free(&name);
  gust_buf_free(&value);
  gust_buf_free(&e);
  gust_buf_free(&back);
  if (rc < 0 && rc != GUST_ENOMEM)
    abort();
  return 0;
}
