/* Fuzz target for the streaming multipart/form-data parser: the first
 * byte picks the feed size; events must come in a valid order, DATA is
 * never empty and never more than was fed. */
#include <gust/httputil.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gust_multipart *mp = NULL;
  gust_multipart_event ev;
  gust_multipart_limits lim;
  size_t step, pos = 0, total = 0;
  int rc, in_part = 0, steps = 0;
  gust_slice b;
  if (size == 0)
    return 0;
  step = (size_t)data[0] % 17 + 1;
  data++;
  size--;
  memset(&lim, 0, sizeof(lim));
  lim.max_header_size = 256;
  lim.max_parts = 64;
  gust_log_set_level(GUST_LOG_GENERAL, GUST_LOG_OFF);
  /* The boundary parser must not over-read either. */
  (void)gust_multipart_boundary((const char *)data, size > 64 ? 64 : size, &b);
  if (gust_multipart_new(&mp, NULL, (const uint8_t *)"B", 1, &lim) != 0)
    return 0;
  for (;;) {
    if (++steps > 1000000)
      abort(); /* no progress */
    rc = gust_multipart_next(mp, &ev);
    if (rc != 0) {
      if (gust_multipart_next(mp, &ev) != rc)
        abort(); /* errors are sticky */
      break;
    }
    if (ev.type == GUST_MULTIPART_NEED_DATA) {
      size_t n = size - pos < step ? size - pos : step;
      if (n == 0) {
        gust_multipart_finish(mp);
        continue;
      }
      if (gust_multipart_feed(mp, data + pos, n) != 0)
        break;
      pos += n;
    } else if (ev.type == GUST_MULTIPART_PART) {
      if (in_part)
        abort();
      in_part = 1;
    } else if (ev.type == GUST_MULTIPART_DATA) {
      if (!in_part || ev.data.len == 0)
        abort();
      total += ev.data.len;
      if (total > pos)
        abort();
    } else if (ev.type == GUST_MULTIPART_PART_END) {
      if (!in_part)
        abort();
      in_part = 0;
    } else if (ev.type == GUST_MULTIPART_END) {
      break;
    }
  }
  gust_multipart_free(mp);
  return 0;
}
