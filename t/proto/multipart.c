/* Tests of the streaming multipart/form-data parser: Tornado's
 * MultipartFormDataTest cases, every split point and one byte at a time,
 * limits, bounded memory and allocation failures. */
#include <gust/httputil.h>

#include <stdio.h>
#include <string.h>

#include "../tap.h"

/* Runs the parser over `body` cut into pieces of `step` bytes (0 = whole,
 * or split once at `split` when step is (size_t)-1) and writes a
 * transcript: P[name|filename|type|file]D[data]E per part, then END, or
 * ERR:<name>. Returns the final code. */
static int run(const char *boundary, const char *body, size_t len, size_t step,
               size_t split, const gust_mem *mem, gust_buf *tr) {
  gust_multipart *mp = NULL;
  gust_multipart_event ev;
  size_t pos = 0;
  int rc, in_data = 0;
  rc = gust_multipart_new(&mp, mem, (const uint8_t *)boundary, strlen(boundary),
                          NULL);
  if (rc != 0) {
    gust_buf_printf(tr, "ERR:%s", gust_errname(rc));
    return rc;
  }
  for (;;) {
    rc = gust_multipart_next(mp, &ev);
    if (rc != 0)
      break;
    if (ev.type == GUST_MULTIPART_NEED_DATA) {
      size_t n;
      if (pos >= len) {
        gust_multipart_finish(mp);
        continue;
      }
      if (step == (size_t)-1)
        n = pos < split ? split - pos : len - pos;
      else
        n = step == 0 ? len - pos : (len - pos < step ? len - pos : step);
      rc = gust_multipart_feed(mp, (const uint8_t *)body + pos, n);
      if (rc != 0)
        break;
      pos += n;
      continue;
    }
    if (ev.type != GUST_MULTIPART_DATA && in_data) {
      gust_buf_append_str(tr, "]");
      in_data = 0;
    }
    if (ev.type == GUST_MULTIPART_PART) {
      gust_buf_printf(tr, "P[%.*s|%.*s|%.*s|%d]", (int)ev.name.len,
                      (const char *)ev.name.ptr, (int)ev.filename.len,
                      (const char *)ev.filename.ptr, (int)ev.content_type.len,
                      (const char *)ev.content_type.ptr, ev.is_file);
    } else if (ev.type == GUST_MULTIPART_DATA) {
      if (!in_data)
        gust_buf_append_str(tr, "D[");
      in_data = 1;
      if (ev.data.len == 0)
        gust_buf_append_str(tr, "<EMPTY>");
      gust_buf_append(tr, ev.data.ptr, ev.data.len);
    } else if (ev.type == GUST_MULTIPART_PART_END) {
      gust_buf_append_str(tr, "E");
    } else if (ev.type == GUST_MULTIPART_END) {
      gust_buf_append_str(tr, "END");
      break;
    }
  }
  if (rc != 0) {
    if (in_data)
      gust_buf_append_str(tr, "]");
    gust_buf_printf(tr, "ERR:%s", gust_errname(rc));
  }
  gust_multipart_free(mp);
  return rc;
}

/* Checks `body` whole, at every split point and one byte at a time. */
static void expect(const char *what, const char *boundary, const char *body,
                   const char *want) {
  gust_buf tr;
  size_t len = strlen(body), i;
  int bad_split = -1;
  gust_buf_init(&tr, NULL);
  run(boundary, body, len, 0, 0, NULL, &tr);
  is_str((const char *)tr.ptr, want, "%s: whole", what);
  for (i = 1; i < len && bad_split < 0; i++) {
    gust_buf_clear(&tr);
    run(boundary, body, len, (size_t)-1, i, NULL, &tr);
    if (strcmp((const char *)tr.ptr, want) != 0)
      bad_split = (int)i;
  }
  is_int(bad_split, -1, "%s: every split point", what);
  gust_buf_clear(&tr);
  run(boundary, body, len, 1, 0, NULL, &tr);
  is_str((const char *)tr.ptr, want, "%s: one byte at a time", what);
  gust_buf_free(&tr);
}

static void test_tornado_cases(void) {
  expect("file upload", "1234",
         "--1234\r\nContent-Disposition: form-data; name=\"files\"; "
         "filename=\"ab.txt\"\r\n\r\nFoo\r\n--1234--",
         "P[files|ab.txt|application/unknown|1]D[Foo]EEND");
  expect("unquoted names", "1234",
         "--1234\r\nContent-Disposition: form-data; name=files; "
         "filename=ab.txt\r\n\r\nFoo\r\n--1234--",
         "P[files|ab.txt|application/unknown|1]D[Foo]EEND");
  expect("non-ascii filename", "1234",
         "--1234\r\nContent-Disposition: form-data; name=\"files\"; "
         "filename=\"ab.txt\"; filename*=UTF-8''%C3%A1b.txt\r\n\r\nFoo\r\n"
         "--1234--",
         "P[files|\xc3\xa1"
         "b.txt|application/unknown|1]D[Foo]EEND");
  expect("missing headers", "1234", "--1234\r\n\r\nFoo\r\n--1234--",
         "ERR:GUST_EMULTIPART");
  expect("invalid content disposition", "1234",
         "--1234\r\nContent-Disposition: invalid; name=\"files\"; "
         "filename=\"ab.txt\"\r\n\r\nFoo\r\n--1234--",
         "ERR:GUST_EMULTIPART");
  expect("disposition without name", "1234",
         "--1234\r\nContent-Disposition: form-data; filename=\"ab.txt\"\r\n"
         "\r\nFoo\r\n--1234--",
         "ERR:GUST_EMULTIPART");
  expect("data after final boundary", "1234",
         "--1234\r\nContent-Disposition: form-data; name=\"files\"; "
         "filename=\"ab.txt\"\r\n\r\nFoo\r\n--1234--\r\n"
         "--1234--\r\nfollowing junk",
         "P[files|ab.txt|application/unknown|1]D[Foo]EEND");
  expect("field and file with type", "xYzZY",
         "preamble\r\n--xYzZY\r\nContent-Disposition: form-data; "
         "name=\"a\"\r\n\r\n1\r\n--xYzZY\r\nContent-Type: text/plain\r\n"
         "Content-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n"
         "\r\nline1\r\nline2\r\n--xYzZ\r\n\r\n--xYzZY\r\n"
         "Content-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n"
         "--xYzZY--\r\nepilogue",
         "P[a|||0]D[1]EP[f|x.txt|text/plain|1]D[line1\r\nline2\r\n--xYzZ\r\n]"
         "EP[empty|||0]EEND");
  expect("line does not end with a line break", "1234",
         "--1234\r\nContent-Disposition: form-data; name=\"files\"; "
         "filename=\"ab.txt\"\r\n\r\nFoo--1234--",
         "P[files|ab.txt|application/unknown|1]D[Foo-]ERR:GUST_EMULTIPART");
  expect("truncated", "1234",
         "--1234\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nFoo",
         "P[a|||0]ERR:GUST_EMULTIPART");
  expect("no boundary at all", "1234", "just text", "ERR:GUST_EMULTIPART");
  expect("garbage after a delimiter", "1234", "--1234XX\r\n",
         "ERR:GUST_EMULTIPART");
  expect("header line without colon", "1234",
         "--1234\r\nContent-Disposition form-data\r\n\r\nx\r\n--1234--",
         "ERR:GUST_EMULTIPART");
  expect("LF-separated part headers", "1234",
         "--1234\r\nContent-Type: a/b\nContent-Disposition: form-data; "
         "name=\"f\"; filename=\"x\"\r\n\r\nv\r\n--1234--",
         "P[f|x|a/b|1]D[v]EEND");
  expect("blank before the colon is another header", "1234",
         "--1234\r\nContent-Disposition : form-data; name=\"f\"\r\n\r\n"
         "v\r\n--1234--",
         "ERR:GUST_EMULTIPART");
  expect("empty filename is a field", "1234",
         "--1234\r\nContent-Disposition: form-data; name=\"f\"; "
         "filename=\"\"\r\n\r\nv\r\n--1234--",
         "P[f|||0]D[v]EEND");
}

static void test_special_filenames(void) {
  /* Tornado's test_special_filenames: the name written with \ and "
   * escaped must come back exactly. */
  static const char *const names[] = {"a;b.txt",   "a\"b.txt",    "a\";b.txt",
                                      "a;\"b.txt", "a\";\";.txt", "a\\\"b.txt",
                                      "a\\b.txt"};
  size_t i;
  for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    char esc[64], body[256], want[128];
    const char *p;
    size_t n = 0;
    for (p = names[i]; *p != 0; p++) {
      if (*p == '\\' || *p == '"')
        esc[n++] = '\\';
      esc[n++] = *p;
    }
    esc[n] = 0;
    snprintf(body, sizeof(body),
             "--1234\r\nContent-Disposition: form-data; name=\"files\"; "
             "filename=\"%s\"\r\n\r\nFoo\r\n--1234--",
             esc);
    snprintf(want, sizeof(want), "P[files|%s|application/unknown|1]D[Foo]EEND",
             names[i]);
    expect(names[i], "1234", body, want);
  }
}

static void test_boundary(void) {
  gust_slice b;
  const char *ct = "multipart/form-data; boundary=\"1234\"";
  is_int(gust_multipart_boundary(ct, strlen(ct), &b), 0,
         "boundary: quoted boundary found");
  cmp_mem(b.ptr, b.len, "1234", 4, "boundary: quotes dropped");
  ct = "Multipart/Form-Data; charset=x; boundary=abc ";
  is_int(gust_multipart_boundary(ct, strlen(ct), &b), 0,
         "boundary: after another parameter");
  cmp_mem(b.ptr, b.len, "abc", 3, "boundary: value trimmed");
  ct = "text/plain; boundary=abc";
  is_int(gust_multipart_boundary(ct, strlen(ct), &b), GUST_EBOUNDARY,
         "boundary: other media type refused");
  is_int(gust_multipart_boundary(NULL, 0, &b), GUST_EBOUNDARY,
         "boundary: NULL empty refused");
  ct = "multipart/form-data";
  is_int(gust_multipart_boundary(ct, strlen(ct), &b), GUST_EBOUNDARY,
         "boundary: missing boundary refused");
  ct = "multipart/form-data; boundary=";
  is_int(gust_multipart_boundary(ct, strlen(ct), &b), GUST_EBOUNDARY,
         "boundary: empty boundary refused");
  ct =
      "multipart/form-data; boundary="
      "12345678901234567890123456789012345678901234567890123456789012345678901";
  is_int(gust_multipart_boundary(ct, strlen(ct), &b), GUST_EBOUNDARY,
         "boundary: 71 bytes refused");
  expect("boundary from a quoted header", "1234",
         "--1234\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
         "--1234--",
         "P[a|||0]D[x]EEND");
}

static void test_limits(void) {
  gust_multipart *mp;
  gust_multipart_event ev;
  gust_multipart_limits lim;
  char big[600];
  int rc;
  memset(&lim, 0, sizeof(lim));
  lim.max_header_size = 100;
  gust_multipart_new(&mp, NULL, (const uint8_t *)"b", 1, &lim);
  memset(big, 'x', sizeof(big));
  memcpy(big, "--b\r\nX-Long: ", 13);
  gust_multipart_next(mp, &ev);
  gust_multipart_feed(mp, (const uint8_t *)big, sizeof(big));
  rc = gust_multipart_next(mp, &ev);
  is_int(rc, GUST_ELIMIT, "limits: header block over max_header_size");
  is_int(gust_multipart_next(mp, &ev), GUST_ELIMIT,
         "limits: the error is sticky");
  ok(gust_is_fatal(GUST_EMULTIPART), "limits: malformed body is fatal");
  gust_multipart_free(mp);

  memset(&lim, 0, sizeof(lim));
  lim.max_parts = 2;
  {
    const char *body = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1"
                       "\r\n--b\r\nContent-Disposition: form-data; name=a\r\n"
                       "\r\n2\r\n--b\r\nContent-Disposition: form-data; "
                       "name=a\r\n\r\n3\r\n--b--";
    int parts = 0;
    gust_multipart_new(&mp, NULL, (const uint8_t *)"b", 1, &lim);
    gust_multipart_feed(mp, (const uint8_t *)body, strlen(body));
    while ((rc = gust_multipart_next(mp, &ev)) == 0 &&
           ev.type != GUST_MULTIPART_END && ev.type != GUST_MULTIPART_NEED_DATA)
      parts += ev.type == GUST_MULTIPART_PART;
    is_int(rc, GUST_ELIMIT, "limits: third part over max_parts");
    is_int(parts, 2, "limits: two parts delivered first");
    gust_multipart_free(mp);
  }

  memset(&lim, 0, sizeof(lim));
  lim.max_buffer = 10;
  gust_multipart_new(&mp, NULL, (const uint8_t *)"b", 1, &lim);
  is_int(gust_multipart_feed(mp, (const uint8_t *)big, 11), GUST_ELIMIT,
         "limits: feed over max_buffer refused");
  is_int(gust_multipart_feed(mp, (const uint8_t *)big, 10), 0,
         "limits: feed at max_buffer accepted");
  gust_multipart_free(mp);

  is_int(gust_multipart_new(&mp, NULL, (const uint8_t *)"", 0, NULL),
         GUST_EBOUNDARY, "limits: empty boundary refused");
}

static void test_messages(void) {
  static const struct {
    const char *body;
    const char *msg;
  } cases[] = {
      {"--b\r\nContent-Disposition: form-data; filename=x\r\n\r\n1\r\n--b--",
       "multipart/form-data missing name"},
      {"--b\r\nContent-Disposition: attachment; name=x\r\n\r\n1\r\n--b--",
       "Invalid multipart/form-data"},
      {"--b\r\n\r\n1\r\n--b--", "multipart/form-data missing headers"},
      {"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1",
       "Invalid multipart/form-data: no final boundary found"},
      {"--b\r\nNoColon\r\n\r\n1\r\n--b--", "no colon in header line"},
  };
  size_t i;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    gust_multipart *mp;
    gust_multipart_event ev;
    int rc;
    gust_multipart_new(&mp, NULL, (const uint8_t *)"b", 1, NULL);
    ok(gust_multipart_errmsg(mp) == NULL, "messages %zu: none before", i);
    gust_multipart_feed(mp, (const uint8_t *)cases[i].body,
                        strlen(cases[i].body));
    gust_multipart_finish(mp);
    while ((rc = gust_multipart_next(mp, &ev)) == 0 &&
           ev.type != GUST_MULTIPART_END)
      ;
    is_int(rc, GUST_EMULTIPART, "messages %zu: fatal error", i);
    is_str(gust_multipart_errmsg(mp), cases[i].msg, "messages %zu: text", i);
    ok(gust_multipart_offset(mp) > 0 &&
           gust_multipart_offset(mp) <= strlen(cases[i].body),
       "messages %zu: offset %llu within the input", i,
       (unsigned long long)gust_multipart_offset(mp));
    gust_multipart_free(mp);
  }
}

static void test_bounded_memory(void) {
  gust_failmem fm;
  gust_multipart *mp;
  gust_multipart_event ev;
  char chunk[4096];
  const char *head = "--B0undary\r\nContent-Disposition: form-data; "
                     "name=\"f\"; filename=\"big.bin\"\r\n\r\n";
  size_t total = 0, fed = 0, want = 4 * 1024 * 1024;
  int rc = 0, ended = 0, head_done = 0, tail_done = 0;
  gust_failmem_init(&fm, NULL);
  gust_multipart_new(&mp, &fm.mem, (const uint8_t *)"B0undary", 8, NULL);
  memset(chunk, '-', sizeof(chunk)); /* dashes: many near-boundaries */
  chunk[0] = '\r';
  chunk[1] = '\n';
  while (!ended && rc == 0) {
    rc = gust_multipart_next(mp, &ev);
    if (rc != 0)
      break;
    if (ev.type == GUST_MULTIPART_DATA)
      total += ev.data.len;
    else if (ev.type == GUST_MULTIPART_END)
      ended = 1;
    else if (ev.type == GUST_MULTIPART_NEED_DATA) {
      if (!head_done) {
        rc = gust_multipart_feed(mp, (const uint8_t *)head, strlen(head));
        head_done = 1;
      } else if (fed < want) {
        rc = gust_multipart_feed(mp, (const uint8_t *)chunk, sizeof(chunk));
        fed += sizeof(chunk);
      } else if (!tail_done) {
        rc = gust_multipart_feed(mp, (const uint8_t *)"\r\n--B0undary--", 14);
        tail_done = 1;
      } else {
        gust_multipart_finish(mp);
      }
    }
  }
  is_int(rc, 0, "bounded memory: 4 MiB file part parsed");
  ok(ended, "bounded memory: end reached");
  is_int(total, want, "bounded memory: every byte delivered");
  ok(fm.peak_bytes > 0 && fm.peak_bytes < 64 * 1024,
     "bounded memory: peak %zu bytes, above 0 and below 64 KiB", fm.peak_bytes);
  gust_multipart_free(mp);
  is_int(fm.live_blocks, 0, "bounded memory: nothing leaked");
}

static void test_failmem(void) {
  const char *body =
      "--1234\r\nContent-Disposition: form-data; name=\"files\"; "
      "filename=\"ab.txt\"; filename*=UTF-8''%C3%A1b.txt\r\n\r\nFoo\r\n"
      "--1234\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n"
      "--1234--";
  const char *want = "P[files|\xc3\xa1"
                     "b.txt|application/unknown|1]D[Foo]EP[x|||0]D[y]EEND";
  gust_failmem fm;
  gust_buf tr;
  unsigned long i;
  int rc, bad = 0, saw_ok = 0;
  for (i = 1; i < 100 && !saw_ok; i++) {
    gust_failmem_init(&fm, NULL);
    fm.fail_at = i;
    gust_buf_init(&tr, NULL);
    rc = run("1234", body, strlen(body), 7, 0, &fm.mem, &tr);
    if (rc == 0) {
      saw_ok = 1;
      if (strcmp((const char *)tr.ptr, want) != 0)
        bad++;
    } else if (rc != GUST_ENOMEM) {
      bad++;
    }
    gust_buf_free(&tr);
    if (fm.live_blocks != 0)
      bad++;
  }
  ok(saw_ok, "failmem: parse succeeds once allocations suffice");
  is_int(bad, 0, "failmem: every failure is GUST_ENOMEM, nothing leaks");
}

int main(void) {
  /* Skipped parts log a warning, as in Tornado; keep the output clean. */
  gust_log_set_level(GUST_LOG_GENERAL, GUST_LOG_OFF);
  if (tap_group("tornado"))
    test_tornado_cases();
  if (tap_group("special_filenames"))
    test_special_filenames();
  if (tap_group("boundary"))
    test_boundary();
  if (tap_group("limits"))
    test_limits();
  if (tap_group("messages"))
    test_messages();
  if (tap_group("bounded_memory"))
    test_bounded_memory();
  if (tap_group("failmem"))
    test_failmem();
  return done_testing();
}
