/* Test driver for the HTTP/1.1 connection (see http1_drive.h). */
#include "http1_drive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"

drive_opts server_opts(void) {
  drive_opts o;
  memset(&o, 0, sizeof(o));
  o.role = GUST_H1_SERVER;
  o.respond = 1;
  return o;
}

drive_opts client_opts(const char *method) {
  drive_opts o;
  memset(&o, 0, sizeof(o));
  o.role = GUST_H1_CLIENT;
  o.method = method;
  return o;
}

static void put_bytes(gust_buf *b, const uint8_t *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
      gust_buf_append_byte(b, p[i]);
    else
      gust_buf_printf(b, "\\x%02x", p[i]);
  }
}

static void put_slice(gust_buf *b, gust_slice s) { put_bytes(b, s.ptr, s.len); }

static void put_fields(gust_buf *b, const gust_h1_event *ev) {
  size_t i;
  for (i = 0; i < ev->nfields; i++) {
    gust_buf_append_str(b, " [");
    put_slice(b, ev->fields[i].name);
    gust_buf_append_str(b, "=");
    put_slice(b, ev->fields[i].value);
    gust_buf_append_str(b, "]");
  }
}

static void put_flags(gust_buf *b, const gust_h1_event *ev) {
  unsigned f = ev->head;
  gust_buf_append_str(b, " ");
  if (f & GUST_H1_HEAD_KEEP_ALIVE)
    gust_buf_append_str(b, "K");
  if (f & GUST_H1_HEAD_CHUNKED)
    gust_buf_append_str(b, "C");
  if (f & GUST_H1_HEAD_HAS_LENGTH)
    gust_buf_printf(b, "L%llu", (unsigned long long)ev->content_length);
  if (f & GUST_H1_HEAD_UNTIL_CLOSE)
    gust_buf_append_str(b, "U");
  if (f & GUST_H1_HEAD_EXPECT_100)
    gust_buf_append_str(b, "E");
  if (f & GUST_H1_HEAD_EXPECT_OTHER)
    gust_buf_append_str(b, "X");
  if (f & GUST_H1_HEAD_UPGRADE)
    gust_buf_append_str(b, "G");
  if (f & GUST_H1_HEAD_CONNECT)
    gust_buf_append_str(b, "N");
}

typedef struct run {
  gust_buf *out;
  int last; /* last event type written, to merge DATA / SWITCHED / PAUSED */
  int done; /* CLOSED or ERROR seen */
  int bad;
  int need; /* the last call asked for data */
} run;

static void sep(run *r) {
  if (r->out->len != 0)
    gust_buf_append_str(r->out, " | ");
}

static void answer(gust_h1 *h, const drive_opts *o, unsigned head, run *r) {
  gust_headers hs;
  int rc;
  gust_headers_init(&hs, o->mem);
  if (o->respond == 2 && (head & GUST_H1_HEAD_UPGRADE)) {
    gust_headers_add_str(&hs, "Upgrade", "websocket");
    gust_headers_add_str(&hs, "Connection", "Upgrade");
    rc = gust_h1_send_response(h, 101, NULL, &hs);
  } else if (head & GUST_H1_HEAD_CONNECT) {
    if (o->respond == 2) {
      rc = gust_h1_send_response(h, 200, NULL, NULL);
    } else {
      gust_headers_add_str(&hs, "Content-Length", "0");
      rc = gust_h1_send_response(h, 405, NULL, &hs);
      if (rc == 0)
        rc = gust_h1_send_end(h);
    }
  } else {
    gust_headers_add_str(&hs, "Content-Length", "0");
    rc = gust_h1_send_response(h, 200, NULL, &hs);
    if (rc == 0)
      rc = gust_h1_send_end(h);
  }
  gust_headers_free(&hs);
  if (rc != 0) {
    sep(r);
    gust_buf_printf(r->out, "RESPOND-FAILED %s", gust_errname(rc));
    r->bad = 1;
  }
}

/* Drains events until the connection wants input or is finished. */
static void drain(gust_h1 *h, const drive_opts *o, run *r) {
  gust_h1_event ev;
  unsigned pending_head = 0;
  for (;;) {
    int t = gust_h1_next_event(h, &ev);
    if (t != (int)ev.type) {
      r->bad = 1;
      return;
    }
    r->need = t == GUST_H1_NEED_DATA;
    if (t == GUST_H1_NEED_DATA)
      return;
    if (r->done && t != r->last) {
      sep(r);
      gust_buf_printf(r->out, "EVENT-AFTER-END %s", gust_h1_event_name(t));
      r->bad = 1;
      return;
    }
    switch (t) {
    case GUST_H1_REQUEST:
      sep(r);
      gust_buf_append_str(r->out, "REQ ");
      put_slice(r->out, ev.method);
      gust_buf_append_str(r->out, " ");
      put_slice(r->out, ev.target);
      gust_buf_printf(r->out, " 1.%d", ev.minor_version);
      put_flags(r->out, &ev);
      put_fields(r->out, &ev);
      pending_head = ev.head;
      break;
    case GUST_H1_RESPONSE:
      sep(r);
      gust_buf_printf(r->out, "RES %d ", ev.status);
      put_slice(r->out, ev.reason);
      gust_buf_printf(r->out, " 1.%d", ev.minor_version);
      put_flags(r->out, &ev);
      put_fields(r->out, &ev);
      break;
    case GUST_H1_DATA:
    case GUST_H1_SWITCHED:
      if (ev.data.len == 0 && t == GUST_H1_DATA) {
        sep(r);
        gust_buf_append_str(r->out, "EMPTY-DATA");
        r->bad = 1;
      }
      if (r->last != t) {
        sep(r);
        gust_buf_append_str(r->out, t == GUST_H1_DATA ? "D:" : "SW:");
      }
      put_slice(r->out, ev.data);
      break;
    case GUST_H1_TRAILERS:
      sep(r);
      gust_buf_append_str(r->out, "TRL");
      put_fields(r->out, &ev);
      break;
    case GUST_H1_END_MESSAGE:
      sep(r);
      gust_buf_append_str(r->out, "END");
      if (o->role == GUST_H1_SERVER && o->respond) {
        r->last = t;
        answer(h, o, pending_head, r);
        continue;
      }
      break;
    case GUST_H1_PAUSED:
      if (r->last != t) {
        sep(r);
        gust_buf_append_str(r->out, "PAUSED");
      }
      r->last = t;
      return;
    case GUST_H1_CLOSED:
      if (r->last != t) {
        sep(r);
        gust_buf_append_str(r->out, "CLOSED");
      }
      r->last = t;
      r->done = 1;
      return;
    case GUST_H1_ERROR:
      if (r->last != t) {
        sep(r);
        gust_buf_printf(r->out, "ERR %d %s @%llu", ev.http_status,
                        gust_errname(ev.code), (unsigned long long)ev.offset);
        if (o->role == GUST_H1_SERVER && ev.http_status != 0)
          gust_h1_send_error(h);
      }
      r->last = t;
      r->done = 1;
      return;
    default:
      r->bad = 1;
      return;
    }
    r->last = t;
    if (t == GUST_H1_SWITCHED)
      return;
  }
}

int drive(const drive_opts *o, const void *in, size_t n, const size_t *cuts,
          size_t ncuts, gust_buf *out) {
  gust_h1 *h;
  run r;
  size_t k, start = 0;
  int rc;
  gust_buf_clear(out);
  memset(&r, 0, sizeof(r));
  r.out = out;
  r.last = -1;
  rc = gust_h1_new(&h, o->role, o->cfg, o->mem);
  if (rc != 0)
    return rc;
  if (o->role == GUST_H1_CLIENT && o->method != NULL) {
    gust_headers hs;
    gust_headers_init(&hs, o->mem);
    gust_headers_add_str(&hs, "Host", "example.com");
    if (o->upgrade) {
      gust_headers_add_str(&hs, "Upgrade", "websocket");
      gust_headers_add_str(&hs, "Connection", "Upgrade");
    }
    rc = gust_h1_send_request(h, o->method, "/", &hs);
    if (rc == 0 && strcmp(o->method, "POST") != 0)
      rc = gust_h1_send_end(h);
    gust_headers_free(&hs);
    if (rc != 0) {
      gust_h1_free(h);
      return rc;
    }
  }
  for (k = 0; k <= ncuts; k++) {
    size_t end = k < ncuts ? cuts[k] : n, len = end - start;
    uint8_t *copy;
    if (len == 0 && k < ncuts)
      continue;
    copy = tap_guard_copy((const uint8_t *)in + start, len);
    if (copy == NULL) {
      gust_h1_free(h);
      return GUST_ENOMEM;
    }
    if (!r.done) {
      /* a failed feed is a fatal error that the drain reports */
      (void)gust_h1_feed(h, copy, len);
      drain(h, o, &r);
    }
    tap_guard_free(copy, len);
    start = end;
  }
  if (o->eof && !r.done) {
    gust_h1_feed_eof(h, o->eof_flags);
    drain(h, o, &r);
  }
  if (r.need) {
    sep(&r);
    gust_buf_append_str(out, "NEED");
  }
  gust_h1_free(h);
  return r.bad ? GUST_EINTERNAL : 0;
}

static int same(const gust_buf *a, const char *want) {
  return strlen(want) == a->len && memcmp(a->ptr, want, a->len) == 0;
}

int check_vector(const char *name, const drive_opts *o, const void *in,
                 size_t n, const char *want) {
  gust_buf got;
  size_t i, *cuts;
  int all = 1, rc;
  gust_buf_init(&got, NULL);
  rc = drive(o, in, n, NULL, 0, &got);
  if (want == NULL) {
    /* any accepted request: the whole-input run is the reference */
    static char ref[1 << 17];
    size_t l = got.len < sizeof(ref) - 1 ? got.len : sizeof(ref) - 1;
    memcpy(ref, got.ptr != NULL ? (const char *)got.ptr : "", l);
    ref[l] = '\0';
    want = ref;
    if (strncmp(ref, "REQ ", 4) != 0 || strstr(ref, "ERR") != NULL)
      want = "REQ ... (accepted)";
  }
  if (!ok(rc == 0 && same(&got, want), "%s: whole", name)) {
    diag("got:  %s", got.len ? (const char *)got.ptr : "");
    diag("want: %s", want);
    all = 0;
  }
  /* every split point (a stride over big inputs) */
  {
    size_t step = n > 2048 ? n / 509 + 1 : 1;
    int good = 1;
    for (i = 1; i < n && good; i += step) {
      rc = drive(o, in, n, &i, 1, &got);
      if (rc != 0 || !same(&got, want)) {
        diag("split at %zu: %s", i, got.len ? (const char *)got.ptr : "");
        good = 0;
      }
    }
    if (n > 2048) {
      for (i = n - 8; i < n && good; i++) {
        rc = drive(o, in, n, &i, 1, &got);
        if (rc != 0 || !same(&got, want)) {
          diag("split at %zu: %s", i, got.len ? (const char *)got.ptr : "");
          good = 0;
        }
      }
    }
    all &= ok(good, "%s: every split point", name);
  }
  cuts = malloc((n ? n : 1) * sizeof(*cuts));
  if (cuts == NULL)
    bail_out("out of memory");
  for (i = 0; i + 1 < n; i++)
    cuts[i] = i + 1;
  rc = drive(o, in, n, cuts, n ? n - 1 : 0, &got);
  if (!ok(rc == 0 && same(&got, want), "%s: one byte at a time", name)) {
    diag("got:  %s", got.len ? (const char *)got.ptr : "");
    all = 0;
  }
  free(cuts);
  gust_buf_free(&got);
  return all;
}

int check_str(const char *name, const drive_opts *o, const char *in,
              const char *want) {
  return check_vector(name, o, in, strlen(in), want);
}
