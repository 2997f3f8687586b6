/* The chat room of the demo, with the semantics of Tornado's chat demo: a
 * cache of the last messages, POST /a/message/new, a long poll on
 * POST /a/message/updates with a cursor, and a WebSocket /chatsocket that
 * gets the same messages as they arrive. */
#include "demo.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static demo *demo_of(gust_web_handler *h) { return gust_web_class_data(h); }

static demo_message *cache_at(demo *d, size_t i) {
  return &d->cache[(d->cache_start + i) % DEMO_CHAT_CACHE];
}

static int message_json(const demo_message *m, gust_buf *out) {
  int rc;
  if ((rc = gust_buf_printf(out, "{\"id\":\"%" PRIu64 "\",\"from\":", m->id)) <
          0 ||
      (rc = gust_json_quote(m->from, strlen(m->from), out)) < 0 ||
      (rc = gust_buf_append_str(out, ",\"body\":")) < 0 ||
      (rc = gust_json_quote(m->body, strlen(m->body), out)) < 0)
    return rc;
  return gust_buf_append_byte(out, '}');
}

/* {"messages":[...]} with the cached messages after `cursor`; *count gets
 * how many. */
static int messages_json(demo *d, uint64_t cursor, gust_buf *out,
                         size_t *count) {
  size_t i, n = 0;
  int rc = gust_buf_append_str(out, "{\"messages\":[");
  for (i = 0; i < d->cache_len && rc == 0; i++) {
    demo_message *m = cache_at(d, i);
    if (m->id <= cursor)
      continue;
    if (n++ > 0)
      rc = gust_buf_append_byte(out, ',');
    if (rc == 0)
      rc = message_json(m, out);
  }
  if (rc == 0)
    rc = gust_buf_append_str(out, "]}");
  if (count != NULL)
    *count = n;
  return rc;
}

static uint64_t parse_cursor(const char *s) {
  uint64_t v = 0;
  gust_slice sl = gust_slice_cstr(s);
  if (gust_slice_to_u64(sl, UINT64_MAX, &v) < 0)
    return 0; /* no cursor or a stale one: everything cached */
  return v;
}

/* ---- long polls ---- */

typedef struct poll_state {
  gust_future *done; /* resolved when the poll is answered */
  uint64_t cursor;
  int waiting;
} poll_state;

/* Answers a waiting long poll with what came after its cursor. */
static void answer_poll(demo *d, gust_web_handler *h) {
  poll_state *st = gust_web_state(h);
  gust_buf json;
  gust_buf_init(&json, NULL);
  st->waiting = 0;
  if (!gust_web_finished(h) && messages_json(d, st->cursor, &json, NULL) == 0)
    gust_web_write_json(h, (const char *)json.ptr, json.len);
  gust_buf_free(&json);
  gust_future_set_result(st->done, NULL, NULL);
}

static void drop_waiter(demo *d, gust_web_handler *h) {
  if (demo_ptr_remove((void **)d->waiters, &d->n_waiters, h))
    gust_web_handler_unref(h);
}

static int updates_post(gust_web_handler *h, gust_future **wait) {
  demo *d = demo_of(h);
  poll_state *st = gust_web_state(h);
  const char *cursor;
  gust_buf json;
  size_t n;
  int rc;
  if ((rc = gust_web_authenticated(h)) < 0 ||
      (rc = gust_web_get_argument(h, "cursor", "", &cursor)) < 0)
    return rc;
  st->cursor = parse_cursor(cursor);
  gust_buf_init(&json, NULL);
  rc = messages_json(d, st->cursor, &json, &n);
  if (rc == 0 && (n > 0 || d->shutting_down))
    rc = gust_web_write_json(h, (const char *)json.ptr, json.len);
  gust_buf_free(&json);
  if (rc < 0 || n > 0 || d->shutting_down)
    return rc;
  /* nothing new: wait until a message arrives or the client leaves */
  if ((rc = gust_future_new(&st->done, gust_web_loop(h), NULL)) < 0)
    return rc;
  rc = demo_ptr_push((void ***)&d->waiters, &d->n_waiters, &d->cap_waiters,
                     gust_web_handler_ref(h));
  if (rc < 0) {
    gust_web_handler_unref(h);
    return rc;
  }
  st->waiting = 1;
  *wait = gust_future_ref(st->done);
  return 0;
}

/* The client left while waiting: drop it from the waiters (Tornado's
 * on_connection_close cancelling the wait). */
static void updates_close(gust_web_handler *h) {
  poll_state *st = gust_web_state(h);
  if (!st->waiting)
    return;
  st->waiting = 0;
  gust_future_set_result(st->done, NULL, NULL);
  drop_waiter(demo_of(h), h);
}

static void updates_release(gust_web_handler *h) {
  poll_state *st = gust_web_state(h);
  gust_future_unref(st->done);
}

/* ---- new messages ---- */

/* Adds a message to the cache and sends it to every socket and poll. */
static int chat_post_message(demo *d, const char *from, const char *body,
                             gust_buf *json_out) {
  demo_message *m;
  gust_buf one, json;
  size_t i;
  int rc;
  char *f = demo_strdup(from), *b = demo_strdup(body);
  if (f == NULL || b == NULL) {
    free(f);
    free(b);
    return GUST_ENOMEM;
  }
  if (d->cache_len == DEMO_CHAT_CACHE) {
    m = cache_at(d, 0);
    free(m->from);
    free(m->body);
    d->cache_start = (d->cache_start + 1) % DEMO_CHAT_CACHE;
    d->cache_len--;
  }
  m = cache_at(d, d->cache_len++);
  m->id = ++d->next_id;
  m->from = f;
  m->body = b;
  gust_buf_init(&one, NULL);
  gust_buf_init(&json, NULL);
  rc = message_json(m, &one);
  if (rc == 0)
    rc = gust_buf_printf(&json, "{\"messages\":[%s]}", (const char *)one.ptr);
  if (rc == 0) {
    for (i = 0; i < d->n_sockets; i++) {
      gust_websocket *ws = gust_web_websocket(d->sockets[i]);
      if (ws != NULL) /* a closing socket refuses: nothing to do */
        gust_websocket_write_message(ws, json.ptr, json.len, 0, NULL);
    }
    while (d->n_waiters > 0) {
      gust_web_handler *w = d->waiters[0];
      answer_poll(d, w);
      drop_waiter(d, w);
    }
    if (json_out != NULL)
      rc = gust_buf_append(json_out, one.ptr, one.len);
  }
  gust_buf_free(&one);
  gust_buf_free(&json);
  return rc;
}

/* Trims and checks a message body; returns its length or 0 when refused. */
static size_t clean_body(char *body) {
  size_t len = strlen(body), start = 0;
  while (start < len && (body[start] == ' ' || body[start] == '\t' ||
                         body[start] == '\n' || body[start] == '\r'))
    start++;
  while (len > start && (body[len - 1] == ' ' || body[len - 1] == '\t' ||
                         body[len - 1] == '\n' || body[len - 1] == '\r'))
    len--;
  memmove(body, body + start, len - start);
  body[len - start] = '\0';
  return len - start;
}

static int current_user_name(gust_web_handler *h, char *name) {
  gust_slice user;
  int rc = gust_web_current_user(h, &user);
  if (rc <= 0)
    return rc < 0 ? rc : GUST_ESTATE;
  memcpy(name, user.ptr, user.len);
  name[user.len] = '\0';
  return 0;
}

static int new_post(gust_web_handler *h, gust_future **wait) {
  char name[DEMO_NAME_MAX + 1], body[DEMO_CHAT_MAX_BODY + 1];
  const char *arg;
  gust_buf json;
  int rc;
  (void)wait;
  if ((rc = gust_web_authenticated(h)) < 0 ||
      (rc = current_user_name(h, name)) < 0 ||
      (rc = gust_web_get_argument(h, "body", NULL, &arg)) < 0)
    return rc;
  if (strlen(arg) > DEMO_CHAT_MAX_BODY)
    return gust_web_http_error(h, 413, "message of %zu bytes", strlen(arg));
  strcpy(body, arg);
  if (clean_body(body) == 0)
    return gust_web_http_error(h, 400, "empty message");
  gust_buf_init(&json, NULL);
  rc = chat_post_message(demo_of(h), name, body, &json);
  if (rc == 0)
    rc = gust_web_write_json(h, (const char *)json.ptr, json.len);
  gust_buf_free(&json);
  return rc;
}

/* ---- the WebSocket ---- */

static int socket_prepare(gust_web_handler *h, gust_future **wait) {
  (void)wait;
  if (demo_of(h)->shutting_down)
    return gust_web_http_error(h, 503, "shutting down");
  return gust_web_authenticated(h);
}

static int socket_open(gust_web_handler *h, gust_websocket *ws,
                       gust_future **wait) {
  demo *d = demo_of(h);
  const char *cursor;
  gust_buf json;
  size_t n;
  int rc;
  (void)wait;
  rc = demo_ptr_push((void ***)&d->sockets, &d->n_sockets, &d->cap_sockets,
                     gust_web_handler_ref(h));
  if (rc < 0) {
    gust_web_handler_unref(h);
    return rc;
  }
  /* catch up from the page's cursor */
  if ((rc = gust_web_get_argument(h, "cursor", "", &cursor)) < 0)
    return rc;
  gust_buf_init(&json, NULL);
  rc = messages_json(d, parse_cursor(cursor), &json, &n);
  if (rc == 0 && n > 0)
    rc = gust_websocket_write_message(ws, json.ptr, json.len, 0, NULL);
  gust_buf_free(&json);
  return rc;
}

static int socket_message(gust_web_handler *h, gust_websocket *ws,
                          const gust_websocket_message *msg,
                          gust_future **wait) {
  char name[DEMO_NAME_MAX + 1], body[DEMO_CHAT_MAX_BODY + 1];
  int rc;
  (void)wait;
  if (msg->binary || msg->data.len > DEMO_CHAT_MAX_BODY ||
      memchr(msg->data.ptr, '\0', msg->data.len) != NULL) {
    /* not a chat message: tell the peer and keep the connection */
    gust_websocket_write_message(
        ws, "{\"error\":\"messages are text of 500 bytes at most\"}", 51, 0,
        NULL);
    return 0;
  }
  if ((rc = current_user_name(h, name)) < 0)
    return rc;
  memcpy(body, msg->data.ptr, msg->data.len);
  body[msg->data.len] = '\0';
  if (clean_body(body) == 0)
    return 0;
  return chat_post_message(demo_of(h), name, body, NULL);
}

static void socket_close(gust_web_handler *h, gust_websocket *ws) {
  demo *d = demo_of(h);
  (void)ws;
  if (demo_ptr_remove((void **)d->sockets, &d->n_sockets, h))
    gust_web_handler_unref(h);
}

/* ---- the page ---- */

static int chat_page(gust_web_handler *h, gust_future **wait) {
  demo *d = demo_of(h);
  static const char *const scripts[] = {"chat.js", NULL};
  const char *form;
  size_t i;
  int rc;
  (void)wait;
  if ((rc = gust_web_authenticated(h)) < 0 ||
      (rc = gust_web_xsrf_form_html(h, &form)) < 0 ||
      (rc = demo_page_begin(h, "Chat", "Chat")) < 0)
    return rc;
  gust_web_writef(h,
                  "<section class=\"card chat\">\n<div class=\"chat-head\">"
                  "<h1>Chat room</h1><span class=\"badge\" id=\"transport\" "
                  "title=\"how messages reach this page\">connecting…</span>"
                  "</div>\n<div id=\"inbox\" aria-live=\"polite\" "
                  "data-cursor=\"%" PRIu64 "\">\n",
                  d->next_id);
  for (i = 0; i < d->cache_len; i++) {
    demo_message *m = cache_at(d, i);
    gust_web_writef(h, "<div class=\"message\" id=\"m%" PRIu64 "\">", m->id);
    gust_web_write_str(h, "<b class=\"from\">");
    gust_web_write_escaped(h, m->from, strlen(m->from));
    gust_web_write_str(h, "</b> <span class=\"body\">");
    gust_web_write_escaped(h, m->body, strlen(m->body));
    gust_web_write_str(h, "</span></div>\n");
  }
  gust_web_write_str(h, "</div>\n<form id=\"message-form\" method=\"post\" "
                        "action=\"/a/message/new\" autocomplete=\"off\">\n");
  gust_web_write_str(h, form);
  gust_web_writef(h,
                  "\n<input id=\"message\" name=\"body\" maxlength=\"%d\" "
                  "placeholder=\"Say something…\" aria-label=\"Message\" "
                  "required>\n<button type=\"submit\">Send</button>\n"
                  "</form>\n</section>\n",
                  DEMO_CHAT_MAX_BODY);
  return demo_page_end(h, scripts);
}

static const gust_web_handler_class page_class = {
    .name = "Chat",
    .get_current_user = demo_get_current_user,
    .get = chat_page,
    .head = chat_page,
};

static const gust_web_handler_class new_class = {
    .name = "MessageNew",
    .get_current_user = demo_get_current_user,
    .post = new_post,
};

static const gust_web_handler_class updates_class = {
    .name = "MessageUpdates",
    .state_size = sizeof(poll_state),
    .get_current_user = demo_get_current_user,
    .post = updates_post,
    .on_connection_close = updates_close,
    .release = updates_release,
};

static const gust_websocket_opts socket_opts = {
    .max_message_size = 4096,
    .ping_interval = 30,
    .compression = 1,
};

static const gust_web_socket_class socket_ws = {
    .open = socket_open,
    .on_message = socket_message,
    .on_close = socket_close,
    .opts = &socket_opts,
};

static const gust_web_handler_class socket_class = {
    .name = "ChatSocket",
    .get_current_user = demo_get_current_user,
    .prepare = socket_prepare,
    .websocket = &socket_ws,
};

int demo_chat_routes(demo *d) {
  int rc;
  if ((rc = gust_web_app_add(d->app, "/", &page_class, d, "chat")) < 0 ||
      (rc = gust_web_app_add(d->app, "/a/message/new", &new_class, d, NULL)) <
          0 ||
      (rc = gust_web_app_add(d->app, "/a/message/updates", &updates_class, d,
                             NULL)) < 0 ||
      (rc = gust_web_app_add(d->app, "/chatsocket", &socket_class, d, NULL)) <
          0)
    return rc;
  return 0;
}

void demo_chat_shutdown(demo *d) {
  /* long polls are answered (with nothing new) so that they finish */
  while (d->n_waiters > 0) {
    gust_web_handler *w = d->waiters[0];
    answer_poll(d, w);
    drop_waiter(d, w);
  }
}

void demo_chat_free(demo *d) {
  size_t i;
  demo_chat_shutdown(d);
  for (i = 0; i < d->n_sockets; i++)
    gust_web_handler_unref(d->sockets[i]);
  d->n_sockets = 0;
  free(d->sockets);
  free(d->waiters);
  for (i = 0; i < d->cache_len; i++) {
    free(cache_at(d, i)->from);
    free(cache_at(d, i)->body);
  }
  d->cache_len = 0;
}
