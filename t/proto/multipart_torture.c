/* Allocation-failure torture of the form body parsers: a multipart/form-data
 * body with fields and a file, fed in small pieces, and an urlencoded body
 * with escapes (torture.h says what each run checks). */
#include "torture.h"

#include <gust/httputil.h>

#include <string.h>

static const char content_type[] =
    "multipart/form-data; boundary=\"----gust-boundary\"";
static const char body[] =
    "preamble\r\n"
    "------gust-boundary\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
    "Hello, form\r\n"
    "------gust-boundary\r\n"
    "Content-Disposition: form-data; name=\"upload\"; filename=\"a b.txt\"\r\n"
    "Content-Type: text/plain\r\n\r\n"
    "line one\r\nline two with ------gust-boundar almost\r\n\r\n"
    "------gust-boundary\r\n"
    "Content-Disposition: form-data; name=\"empty\"\r\n\r\n"
    "\r\n"
    "------gust-boundary--\r\n"
    "epilogue";

static int multipart(const gust_mem *mem, void *ud) {
  gust_multipart *mp = NULL;
  gust_multipart_event ev;
  gust_slice boundary;
  size_t pos = 0, len = sizeof(body) - 1, data = 0;
  int rc, parts = 0, ends = 0, files = 0, end = 0;
  (void)ud;
  if ((rc = gust_multipart_boundary(content_type, sizeof(content_type) - 1,
                                    &boundary)) != 0 ||
      (rc = gust_multipart_new(&mp, mem, boundary.ptr, boundary.len, NULL)) !=
          0)
    goto done;
  while (!end) {
    if ((rc = gust_multipart_next(mp, &ev)) != 0)
      goto done;
    switch (ev.type) {
    case GUST_MULTIPART_NEED_DATA:
      if (pos == len) {
        if ((rc = gust_multipart_finish(mp)) != 0)
          goto done;
        end = 1;
        break;
      }
      {
        size_t n = len - pos < 9 ? len - pos : 9;
        if ((rc = gust_multipart_feed(mp, (const uint8_t *)body + pos, n)) != 0)
          goto done;
        pos += n;
      }
      break;
    case GUST_MULTIPART_PART:
      parts++;
      files += ev.is_file;
      break;
    case GUST_MULTIPART_DATA:
      data += ev.data.len;
      break;
    case GUST_MULTIPART_PART_END:
      ends++;
      break;
    case GUST_MULTIPART_END:
      end = 1;
      break;
    }
  }
  rc = parts == 3 && ends == 3 && files == 1 && data == 11 + 51
           ? 0
           : GUST_EINTERNAL;
done:
  gust_multipart_free(mp);
  return rc;
}

static int urlencoded(const gust_mem *mem, void *ud) {
  static const char form[] =
      "name=J%C3%BCrgen+Smith&empty=&flag&x%20y=a%26b%3Dc&name=second"
      "&long=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  gust_form_iter it;
  gust_buf name, value, esc;
  size_t fields = 0, bytes = 0;
  int rc;
  (void)ud;
  gust_buf_init(&name, mem);
  gust_buf_init(&value, mem);
  gust_buf_init(&esc, mem);
  gust_form_iter_init(&it, (const uint8_t *)form, sizeof(form) - 1);
  while ((rc = gust_form_next(&it, &name, &value)) == 1) {
    fields++;
    bytes += name.len + value.len;
    gust_buf_clear(&esc);
    if ((rc = gust_url_escape(value.ptr, value.len, 1, &esc)) != 0 ||
        (rc = gust_xhtml_escape(value.ptr, value.len, &esc)) != 0)
      break;
  }
  if (rc == 0)
    rc = fields == 6 && bytes == 111 ? 0 : GUST_EINTERNAL;
  gust_buf_free(&name);
  gust_buf_free(&value);
  gust_buf_free(&esc);
  return rc;
}

int main(void) {
  if (tap_group("multipart"))
    torture("multipart/form-data", multipart, NULL);
  if (tap_group("urlencoded"))
    torture("urlencoded form", urlencoded, NULL);
  return done_testing();
}
