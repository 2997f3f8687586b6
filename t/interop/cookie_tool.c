/* Command-line helper for the Tornado interop test: creates and decodes
 * signed values, XSRF tokens and Set-Cookie headers with gust. Binary
 * arguments and results are hex. Prints one result line; "ERR NAME" on a
 * gust error (exit status 0), usage errors exit 2.
 *
 *   create SECRETS NAME VALUEHEX NOW VERSION
 *   decode SECRETS NAME SIGNED NOW MAXAGEDAYS MINVERSION
 *   keyversion SIGNED
 *   xsrf-encode TOKENHEX TIMESTAMP VERSION
 *   xsrf-decode TEXT
 *   xsrf-check SUBMITTED COOKIETEXT
 *   set-cookie NAME VALUEHEX PATH
 *   xhtml-escape HEX | xhtml-unescape HEX        (result as hex)
 *   url-escape HEX PLUS (text) | url-unescape HEX PLUS (hex)
 *   form HEX            one "NAMEHEX=VALUEHEX" line per field
 *   cookie-parse HEX    one "NAMEHEX=VALUEHEX" line per cookie
 *   multipart BOUNDARY HEX   "P name filename type is_file", "D data",
 *                       "E", "END" or "ERR NAME" lines (fields as hex;
 *                       the body is fed 7 bytes at a time)
 *
 * SECRETS is "s:HEX" (one secret) or "v:CURRENT:V=HEX,V=HEX..." (a table). */
#include <gust/cookie.h>
#include <gust/httputil.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unhex(const char *s, gust_buf *out) {
  size_t i, n = strlen(s);
  if (n % 2 != 0)
    return -1;
  for (i = 0; i < n; i += 2) {
    unsigned v;
    if (sscanf(s + i, "%2x", &v) != 1)
      return -1;
    if (gust_buf_append_byte(out, (uint8_t)v) != 0)
      return -1;
  }
  return 0;
}

static void print_hex(const uint8_t *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    printf("%02x", p[i]);
  printf("\n");
}

static void print_hex_inline(const uint8_t *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    printf("%02x", p[i]);
}

static int run_multipart(const char *boundary, const gust_buf *body) {
  gust_multipart *mp = NULL;
  gust_multipart_event ev;
  size_t pos = 0;
  int rc, in_data = 0;
  rc = gust_multipart_new(&mp, NULL, (const uint8_t *)boundary,
                          strlen(boundary), NULL);
  while (rc == 0) {
    rc = gust_multipart_next(mp, &ev);
    if (rc != 0)
      break;
    if (ev.type != GUST_MULTIPART_DATA && in_data) {
      printf("\n");
      in_data = 0;
    }
    if (ev.type == GUST_MULTIPART_NEED_DATA) {
      size_t n = body->len - pos < 7 ? body->len - pos : 7;
      if (n == 0)
        gust_multipart_finish(mp);
      else
        rc = gust_multipart_feed(mp, body->ptr + pos, n);
      pos += n;
    } else if (ev.type == GUST_MULTIPART_PART) {
      printf("P ");
      print_hex_inline(ev.name.ptr, ev.name.len);
      printf(" ");
      print_hex_inline(ev.filename.ptr, ev.filename.len);
      printf(" ");
      print_hex_inline(ev.content_type.ptr, ev.content_type.len);
      printf(" %d\n", ev.is_file);
    } else if (ev.type == GUST_MULTIPART_DATA) {
      if (!in_data)
        printf("D ");
      in_data = 1;
      print_hex_inline(ev.data.ptr, ev.data.len);
    } else if (ev.type == GUST_MULTIPART_PART_END) {
      printf("E\n");
    } else {
      printf("END\n");
      break;
    }
  }
  if (rc != 0) {
    if (in_data)
      printf("\n");
    printf("ERR %s\n", gust_errname(rc));
  }
  gust_multipart_free(mp);
  return 0;
}

static gust_secrets *load_secrets(const char *spec) {
  gust_secrets *s = NULL;
  gust_buf key;
  gust_buf_init(&key, NULL);
  if (strncmp(spec, "s:", 2) == 0) {
    if (unhex(spec + 2, &key) != 0 ||
        gust_secrets_new(&s, NULL, key.ptr, key.len) != 0)
      s = NULL;
  } else if (strncmp(spec, "v:", 2) == 0) {
    /* v:CURRENT:V=HEX,V=HEX... */
    char *end;
    const char *p = spec + 2;
    long cur = strtol(p, &end, 10);
    if (*end == ':' && gust_secrets_new_versioned(&s, NULL, (int)cur) == 0) {
      p = end + 1;
      while (*p != 0 && s != NULL) {
        long v = strtol(p, &end, 10);
        char hex[1024];
        size_t n;
        if (*end != '=') {
          gust_secrets_free(s);
          s = NULL;
          break;
        }
        p = end + 1;
        n = strcspn(p, ",");
        if (n >= sizeof(hex)) {
          gust_secrets_free(s);
          s = NULL;
          break;
        }
        memcpy(hex, p, n);
        hex[n] = 0;
        gust_buf_clear(&key);
        if (unhex(hex, &key) != 0 ||
            gust_secrets_add(s, (int)v, key.ptr, key.len) != 0) {
          gust_secrets_free(s);
          s = NULL;
          break;
        }
        p += n + (p[n] == ',');
      }
    }
  }
  gust_buf_free(&key);
  if (s == NULL) {
    fprintf(stderr, "bad secrets spec\n");
    exit(2);
  }
  return s;
}

static int report(int rc, const gust_buf *out, int as_hex) {
  if (rc != 0)
    printf("ERR %s\n", gust_errname(rc));
  else if (as_hex)
    print_hex(out->ptr, out->len);
  else
    printf("%.*s\n", (int)out->len, (const char *)out->ptr);
  return 0;
}

int main(int argc, char **argv) {
  gust_buf out, in;
  int rc;
  gust_buf_init(&out, NULL);
  gust_buf_init(&in, NULL);
  if (argc == 7 && strcmp(argv[1], "create") == 0) {
    gust_secrets *s = load_secrets(argv[2]);
    if (unhex(argv[4], &in) != 0)
      return 2;
    rc = gust_signed_value_create(s, argv[3], in.ptr, in.len,
                                  strtoll(argv[5], NULL, 10), atoi(argv[6]),
                                  &out);
    gust_secrets_free(s);
    report(rc, &out, 0);
  } else if (argc == 8 && strcmp(argv[1], "decode") == 0) {
    gust_secrets *s = load_secrets(argv[2]);
    rc = gust_signed_value_decode(s, argv[3], argv[4], strlen(argv[4]),
                                  strtoll(argv[5], NULL, 10),
                                  strtod(argv[6], NULL), atoi(argv[7]), &out);
    gust_secrets_free(s);
    report(rc, &out, 1);
  } else if (argc == 3 && strcmp(argv[1], "keyversion") == 0) {
    int kv = -1;
    rc = gust_signed_value_key_version(argv[2], strlen(argv[2]), &kv);
    if (rc != 0)
      printf("ERR %s\n", gust_errname(rc));
    else
      printf("%d\n", kv);
  } else if (argc == 5 && strcmp(argv[1], "xsrf-encode") == 0) {
    if (unhex(argv[2], &in) != 0)
      return 2;
    rc = gust_xsrf_token_encode(in.ptr, in.len, strtoll(argv[3], NULL, 10),
                                atoi(argv[4]), NULL, &out);
    report(rc, &out, 0);
  } else if (argc == 3 && strcmp(argv[1], "xsrf-decode") == 0) {
    rc = gust_xsrf_token_decode(argv[2], strlen(argv[2]), &out, NULL, NULL);
    report(rc, &out, 1);
  } else if (argc == 4 && strcmp(argv[1], "xsrf-check") == 0) {
    rc = gust_xsrf_token_decode(argv[3], strlen(argv[3]), &in, NULL, NULL);
    rc = gust_xsrf_check(NULL, argv[2], strlen(argv[2]),
                         rc == 0 && in.len > 0 ? in.ptr : NULL, in.len);
    if (rc == 0)
      printf("OK\n");
    else
      printf("ERR %s\n", gust_errname(rc));
  } else if (argc == 5 && strcmp(argv[1], "set-cookie") == 0) {
    gust_cookie_attrs a;
    memset(&a, 0, sizeof(a));
    a.path = argv[4];
    if (unhex(argv[3], &in) != 0)
      return 2;
    rc = gust_cookie_format(argv[2], in.ptr, in.len, &a, &out);
    report(rc, &out, 0);
  } else if (argc == 3 && (strcmp(argv[1], "xhtml-escape") == 0 ||
                           strcmp(argv[1], "xhtml-unescape") == 0)) {
    if (unhex(argv[2], &in) != 0)
      return 2;
    rc = argv[1][6] == 'e' ? gust_xhtml_escape(in.ptr, in.len, &out)
                           : gust_xhtml_unescape(in.ptr, in.len, &out);
    report(rc, &out, 1);
  } else if (argc == 4 && (strcmp(argv[1], "url-escape") == 0 ||
                           strcmp(argv[1], "url-unescape") == 0)) {
    if (unhex(argv[2], &in) != 0)
      return 2;
    if (argv[1][4] == 'e')
      report(gust_url_escape(in.ptr, in.len, atoi(argv[3]), &out), &out, 0);
    else
      report(gust_url_unescape(in.ptr, in.len, atoi(argv[3]), &out), &out, 1);
  } else if (argc == 3 && strcmp(argv[1], "form") == 0) {
    gust_form_iter it;
    gust_buf name;
    gust_buf_init(&name, NULL);
    if (unhex(argv[2], &in) != 0)
      return 2;
    gust_form_iter_init(&it, in.ptr, in.len);
    while ((rc = gust_form_next(&it, &name, &out)) == 1) {
      print_hex_inline(name.ptr, name.len);
      printf("=");
      print_hex(out.ptr, out.len);
    }
    if (rc != 0)
      printf("ERR %s\n", gust_errname(rc));
    gust_buf_free(&name);
  } else if (argc == 3 && strcmp(argv[1], "cookie-parse") == 0) {
    gust_cookies *c = NULL;
    gust_slice n, v;
    size_t i;
    if (unhex(argv[2], &in) != 0 || gust_cookies_new(&c, NULL) != 0)
      return 2;
    rc = gust_cookies_parse(c, (const char *)in.ptr, in.len);
    if (rc != 0)
      printf("ERR %s\n", gust_errname(rc));
    for (i = 0; rc == 0 && gust_cookies_at(c, i, &n, &v) == 0; i++) {
      print_hex_inline(n.ptr, n.len);
      printf("=");
      print_hex(v.ptr, v.len);
    }
    gust_cookies_free(c);
  } else if (argc == 4 && strcmp(argv[1], "multipart") == 0) {
    if (unhex(argv[3], &in) != 0)
      return 2;
    gust_log_set_level(GUST_LOG_GENERAL, GUST_LOG_OFF);
    run_multipart(argv[2], &in);
  } else {
    fprintf(stderr, "usage: see the comment at the top of cookie_tool.c\n");
    return 2;
  }
  gust_buf_free(&out);
  gust_buf_free(&in);
  return 0;
}
