/* The web application: settings, routes (match and reverse), and the
 * handler lifecycle driven as a delegate of the HTTP server. */
#include "web/web_int.h"

#include "base/base_int.h"
#include "http/request_int.h"

#include <gust/httputil.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void app_err(gust_web_app *app, const char *fmt, ...) GUST_PRINTF(2, 3);
static void app_err(gust_web_app *app, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(app->err, sizeof app->err, fmt, ap);
  va_end(ap);
}

static void *pcre_malloc(PCRE2_SIZE n, void *ud) {
  return gust__malloc((const gust_mem *)ud, n);
}

static void pcre_free(void *p, void *ud) {
  gust__free((const gust_mem *)ud, p);
}

static int dup_opt(const gust_mem *mem, const char *s, char **out) {
  *out = NULL;
  if (s == NULL)
    return 0;
  *out = gust__strndup(mem, s, strlen(s));
  return *out != NULL ? 0 : GUST_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Routes                                                               */
/* ------------------------------------------------------------------ */

static void route_free(const gust_mem *mem, gust__web_route *r) {
  if (r->pieces != NULL) {
    for (uint32_t i = 0; i <= r->ngroups; i++)
      gust__free(mem, r->pieces[i]);
    gust__free(mem, r->pieces);
  }
  if (r->md != NULL)
    pcre2_match_data_free(r->md);
  if (r->re != NULL)
    pcre2_code_free(r->re);
  gust__free(mem, r->pattern);
  gust__free(mem, r->name);
}

/* Splits a pattern into the literal pieces around its groups, as
 * Tornado's URLSpec._find_groups: only plain top-level groups, and
 * backslash escapes of punctuation outside them. */
static int route_reverse_prepare(const gust_mem *mem, gust__web_route *r) {
  const char *p = r->pattern;
  size_t n = strlen(p), i = 0, piece = 0;
  gust_buf cur;
  char **pieces;
  if (n > 0 && p[0] == '^')
    i = 1;
  if (n > i && p[n - 1] == '$')
    n--;
  pieces = gust__calloc(mem, r->ngroups + 1, sizeof *pieces);
  if (pieces == NULL)
    return GUST_ENOMEM;
  gust_buf_init(&cur, mem);
  r->rev_error = NULL;
  while (i < n && r->rev_error == NULL) {
    char c = p[i];
    if (c == '(') {
      int depth = 1;
      size_t j = i + 1;
      for (; j < n && depth > 0; j++) {
        if (p[j] == '\\') {
          j++;
          continue;
        }
        if (p[j] == '(') {
          r->rev_error = "nested groups cannot be reversed";
          break;
        }
        if (p[j] == ')')
          depth--;
      }
      if (r->rev_error != NULL)
        break;
      if (depth != 0 ||
          (i + 1 < n && p[i + 1] == '?' && !(i + 2 < n && p[i + 2] == 'P'))) {
        r->rev_error = "only plain or named capturing groups can be reversed";
        break;
      }
      if (piece >= r->ngroups) {
        r->rev_error = "group count mismatch";
        break;
      }
      pieces[piece] = (char *)gust_buf_detach(&cur, NULL);
      if (pieces[piece] == NULL)
        goto nomem;
      piece++;
      i = j;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= n || (p[i + 1] >= 'a' && p[i + 1] <= 'z') ||
          (p[i + 1] >= 'A' && p[i + 1] <= 'Z') ||
          (p[i + 1] >= '0' && p[i + 1] <= '9')) {
        r->rev_error = "regular-expression escapes cannot be reversed";
        break;
      }
      c = p[i + 1];
      i += 2;
    } else if (strchr(".*+?[]{}|^$)", c) != NULL) {
      r->rev_error = "regular-expression syntax outside groups cannot be "
                     "reversed";
      break;
    } else {
      i++;
    }
    if (gust_buf_append_byte(&cur, (uint8_t)c) < 0)
      goto nomem;
  }
  if (r->rev_error == NULL && piece != r->ngroups)
    r->rev_error = "group count mismatch";
  if (r->rev_error == NULL) {
    pieces[piece] = (char *)gust_buf_detach(&cur, NULL);
    if (pieces[piece] == NULL)
      goto nomem;
    r->pieces = pieces;
    return 0;
  }
  for (size_t k = 0; k <= r->ngroups; k++)
    gust__free(mem, pieces[k]);
  gust__free(mem, pieces);
  gust_buf_free(&cur);
  return 0;
nomem:
  for (size_t k = 0; k <= r->ngroups; k++)
    gust__free(mem, pieces[k]);
  gust__free(mem, pieces);
  gust_buf_free(&cur);
  return GUST_ENOMEM;
}

int gust_web_app_add(gust_web_app *app, const char *pattern,
                     const gust_web_handler_class *cls, void *class_data,
                     const char *name) {
  gust__web_route r;
  gust_buf pat;
  int err, rc;
  PCRE2_SIZE off;
  if (app == NULL || pattern == NULL || cls == NULL)
    return GUST_EINVAL;
  if (cls->websocket != NULL && cls->get != NULL) {
    app_err(app, "a WebSocket class cannot have a get method");
    return GUST_EINVAL;
  }
  if (name != NULL) {
    for (size_t i = 0; i < app->nroutes; i++)
      if (app->routes[i].name != NULL &&
          strcmp(app->routes[i].name, name) == 0) {
        app_err(app, "route name %s is taken", name);
        return GUST_EEXIST;
      }
  }
  memset(&r, 0, sizeof r);
  r.cls = cls;
  r.class_data = class_data;
  gust_buf_init(&pat, app->mem);
  rc = gust_buf_append_str(&pat, pattern);
  if (rc == 0 && (pattern[0] == '\0' || pattern[strlen(pattern) - 1] != '$'))
    rc = gust_buf_append_str(&pat, "$");
  if (rc < 0) {
    gust_buf_free(&pat);
    return GUST_ENOMEM;
  }
  r.re = pcre2_compile((PCRE2_SPTR)pat.ptr, pat.len,
                       PCRE2_ANCHORED | PCRE2_DOLLAR_ENDONLY, &err, &off,
                       app->pcomp);
  gust_buf_free(&pat);
  if (r.re == NULL) {
    PCRE2_UCHAR msg[160];
    if (err == PCRE2_ERROR_NOMEMORY || err == PCRE2_ERROR_HEAPLIMIT)
      return GUST_ENOMEM;
    pcre2_get_error_message(err, msg, sizeof msg);
    app_err(app, "invalid route pattern %s at offset %zu: %s", pattern,
            (size_t)off, (const char *)msg);
    return GUST_ESYNTAX;
  }
  pcre2_pattern_info(r.re, PCRE2_INFO_CAPTURECOUNT, &r.ngroups);
  r.md = pcre2_match_data_create_from_pattern(r.re, app->pgen);
  if (r.md == NULL || dup_opt(app->mem, pattern, &r.pattern) < 0 ||
      dup_opt(app->mem, name, &r.name) < 0 ||
      route_reverse_prepare(app->mem, &r) < 0)
    goto nomem;
  if (app->nroutes == app->cap) {
    size_t cap = app->cap ? app->cap * 2 : 8;
    gust__web_route *nr =
        gust__realloc(app->mem, app->routes, cap * sizeof *nr);
    if (nr == NULL)
      goto nomem;
    app->routes = nr;
    app->cap = cap;
  }
  app->routes[app->nroutes++] = r;
  return 0;
nomem:
  route_free(app->mem, &r);
  return GUST_ENOMEM;
}

int gust_web_app_reverse_url(gust_web_app *app, const char *name,
                             const char *const *args, size_t n, gust_buf *out) {
  const gust__web_route *r = NULL;
  size_t mark;
  if (app == NULL || name == NULL || out == NULL || (n > 0 && args == NULL))
    return GUST_EINVAL;
  for (size_t i = 0; i < app->nroutes; i++)
    if (app->routes[i].name != NULL && strcmp(app->routes[i].name, name) == 0)
      r = &app->routes[i];
  if (r == NULL) {
    app_err(app, "%s not found in named urls", name);
    return GUST_ENOTFOUND;
  }
  if (r->pieces == NULL) {
    app_err(app, "cannot reverse %s: %s", r->pattern, r->rev_error);
    return GUST_EINVAL;
  }
  if (n != r->ngroups) {
    app_err(app,
            "required number of arguments not found (%u needed, %zu "
            "given)",
            (unsigned)r->ngroups, n);
    return GUST_EINVAL;
  }
  mark = out->len;
  for (size_t i = 0; i <= n; i++) {
    if (gust_buf_append_str(out, r->pieces[i]) < 0)
      goto nomem;
    if (i < n &&
        (args[i] == NULL || gust_url_escape((const uint8_t *)args[i],
                                            strlen(args[i]), 0, out) < 0)) {
      if (args[i] == NULL) {
        gust_buf_truncate(out, mark);
        return GUST_EINVAL;
      }
      goto nomem;
    }
  }
  return 0;
nomem:
  gust_buf_truncate(out, mark);
  return GUST_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* The application                                                      */
/* ------------------------------------------------------------------ */

static void app_release(gust_web_app *app) {
  const gust_mem *mem = app->mem;
  for (size_t i = 0; i < app->nroutes; i++)
    route_free(mem, &app->routes[i]);
  gust__free(mem, app->routes);
  gust_headers_free(&app->default_headers);
  gust__web_vcache_free(app->vcache);
  gust__free(mem, app->xsrf_name);
  gust__free(mem, app->static_path);
  gust__free(mem, app->static_prefix);
  gust__free(mem, app->static_default);
  gust__free(mem, app->server_header);
  gust__free(mem, app->login_url);
  gust__free(mem, app->xsrf_domain);
  gust__free(mem, app->xsrf_path);
  gust__free(mem, app->xsrf_samesite);
  if (app->pmatch != NULL)
    pcre2_match_context_free(app->pmatch);
  if (app->pcomp != NULL)
    pcre2_compile_context_free(app->pcomp);
  if (app->pgen != NULL)
    pcre2_general_context_free(app->pgen);
  gust__free(mem, app);
}

static void app_unref(gust_web_app *app) {
  if (--app->refs == 0)
    app_release(app);
}

int gust_web_app_new(gust_web_app **out, gust_loop *loop,
                     const gust_web_settings *settings, const gust_mem *mem) {
  gust_web_app *app;
  gust_web_settings def;
  int rc = GUST_ENOMEM;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (loop == NULL)
    return GUST_EINVAL;
  if (settings == NULL) {
    memset(&def, 0, sizeof def);
    settings = &def;
  }
  if (settings->xsrf_cookie_version < 0 || settings->xsrf_cookie_version > 2)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  app = gust__calloc(mem, 1, sizeof *app);
  if (app == NULL)
    return GUST_ENOMEM;
  app->loop = loop;
  app->mem = mem;
  app->refs = 1;
  app->st = *settings;
  gust_headers_init(&app->default_headers, mem);
  app->pgen = pcre2_general_context_create(pcre_malloc, pcre_free,
                                           (void *)(uintptr_t)mem);
  if (app->pgen == NULL)
    goto fail;
  app->pcomp = pcre2_compile_context_create(app->pgen);
  app->pmatch = pcre2_match_context_create(app->pgen);
  if (app->pcomp == NULL || app->pmatch == NULL)
    goto fail;
  if (dup_opt(mem,
              settings->xsrf_cookie_name ? settings->xsrf_cookie_name : "_xsrf",
              &app->xsrf_name) < 0 ||
      dup_opt(mem, settings->static_path, &app->static_path) < 0 ||
      dup_opt(mem,
              settings->static_url_prefix ? settings->static_url_prefix
                                          : "/static/",
              &app->static_prefix) < 0 ||
      dup_opt(mem, settings->static_default_filename, &app->static_default) <
          0 ||
      dup_opt(mem, settings->login_url, &app->login_url) < 0)
    goto fail;
  if (settings->server_header != NULL) {
    if (dup_opt(mem, settings->server_header, &app->server_header) < 0)
      goto fail;
  } else {
    char sv[64];
    snprintf(sv, sizeof sv, "gust/%s", gust_version());
    if (dup_opt(mem, sv, &app->server_header) < 0)
      goto fail;
  }
  if (!gust_header_value_valid(app->server_header,
                               strlen(app->server_header))) {
    rc = GUST_EINVAL;
    goto fail;
  }
  if (settings->xsrf_cookie_attrs != NULL) {
    app->xsrf_attrs = *settings->xsrf_cookie_attrs;
    if (dup_opt(mem, app->xsrf_attrs.domain, &app->xsrf_domain) < 0 ||
        dup_opt(mem, app->xsrf_attrs.path, &app->xsrf_path) < 0 ||
        dup_opt(mem, app->xsrf_attrs.samesite, &app->xsrf_samesite) < 0)
      goto fail;
    app->xsrf_attrs.domain = app->xsrf_domain;
    app->xsrf_attrs.path = app->xsrf_path;
    app->xsrf_attrs.samesite = app->xsrf_samesite;
  }
  if (settings->default_headers != NULL &&
      gust_headers_copy(&app->default_headers, settings->default_headers) < 0)
    goto fail;
  app->st.xsrf_cookie_name = app->xsrf_name;
  app->st.static_path = app->static_path;
  app->st.static_url_prefix = app->static_prefix;
  app->st.static_default_filename = app->static_default;
  app->st.server_header = app->server_header;
  app->st.login_url = app->login_url;
  app->st.default_headers = NULL;
  app->st.xsrf_cookie_attrs =
      settings->xsrf_cookie_attrs ? &app->xsrf_attrs : NULL;
  if (app->static_path != NULL) {
    gust_buf pat;
    gust_buf_init(&pat, mem);
    app->static_opts.root = app->static_path;
    app->static_opts.default_filename = app->static_default;
    if (gust__web_vcache_new(&app->vcache, mem) < 0)
      goto fail;
    /* the prefix is literal text: quote it for the pattern */
    if (gust_buf_append_str(&pat, "\\Q") < 0 ||
        gust_buf_append_str(&pat, app->static_prefix) < 0 ||
        gust_buf_append_str(&pat, "\\E(.*)") < 0 ||
        gust_buf_append_byte(&pat, 0) < 0) {
      gust_buf_free(&pat);
      goto fail;
    }
    rc = gust_web_app_add(app, (const char *)pat.ptr, &gust_web_static_handler,
                          &app->static_opts, NULL);
    gust_buf_free(&pat);
    if (rc == 0)
      rc = gust_web_app_add(app, "/(favicon\\.ico)", &gust_web_static_handler,
                            &app->static_opts, NULL);
    if (rc == 0)
      rc = gust_web_app_add(app, "/(robots\\.txt)", &gust_web_static_handler,
                            &app->static_opts, NULL);
    if (rc < 0)
      goto fail;
  }
  *out = app;
  return 0;
fail:
  app_release(app);
  return rc;
}

void gust_web_app_free(gust_web_app *app) {
  if (app == NULL || app->freed)
    return;
  app->freed = 1;
  app_unref(app);
}

const char *gust_web_app_error(const gust_web_app *app) {
  return app != NULL ? app->err : "";
}

gust_loop *gust_web_app_loop(const gust_web_app *app) {
  return app != NULL ? app->loop : NULL;
}

void *gust_web_app_user_data(const gust_web_app *app) {
  return app != NULL ? app->st.user_data : NULL;
}

const char *gust__web_app_static_path(const gust_web_app *app) {
  return app->static_path;
}

const char *gust__web_app_static_prefix(const gust_web_app *app) {
  return app->static_prefix;
}

const char *gust__web_app_static_default(const gust_web_app *app) {
  return app->static_default;
}

gust__web_vcache *gust__web_app_vcache(gust_web_app *app) {
  return app->vcache;
}

const gust_web_static_opts *gust__web_app_static_opts(const gust_web_app *app) {
  return app->static_path != NULL ? &app->static_opts : NULL;
}

int gust_web_app_static_url(gust_web_app *app, const char *path,
                            int include_version, gust_buf *out) {
  size_t mark;
  const char *p;
  if (app == NULL || path == NULL || out == NULL)
    return GUST_EINVAL;
  if (app->static_path == NULL) {
    app_err(app, "static_path is not set");
    return GUST_ESTATE;
  }
  mark = out->len;
  p = path;
  while (*p == '/')
    p++;
  if (gust_buf_append_str(out, app->static_prefix) < 0 ||
      gust_url_escape((const uint8_t *)p, strlen(p), 0, out) < 0)
    goto nomem;
  if (include_version) {
    gust_buf abs;
    char hex[33];
    int rc;
    gust_buf_init(&abs, app->mem);
    rc = gust__web_static_resolve(app->static_path, p, strlen(p), &abs);
    if (rc == 0)
      rc = gust__web_vcache_get(app->vcache, (const char *)abs.ptr, hex);
    gust_buf_free(&abs);
    if (rc == GUST_ENOMEM)
      goto nomem;
    if (rc < 0)
      gust_log(GUST_LOG_APPLICATION, GUST_LOG_ERROR,
               "Could not open static file %s: %s", p, gust_strerror(rc));
    else if (gust_buf_append_str(out, "?v=") < 0 ||
             gust_buf_append_str(out, hex) < 0)
      goto nomem;
  }
  return 0;
nomem:
  gust_buf_truncate(out, mark);
  return GUST_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Handlers: creation and release                                       */
/* ------------------------------------------------------------------ */

static void handler_release(gust_web_handler *h) {
  const gust_mem *mem = h->mem;
  gust_web_app *app = h->app;
  if (h->initialized && h->cls->release != NULL)
    h->cls->release(h);
  gust__web_handler_free_response(h);
  while (h->strs != NULL) {
    gust__web_str *n = h->strs->next;
    gust__free(mem, h->strs);
    h->strs = n;
  }
  gust_buf_free(&h->argbuf);
  gust_buf_free(&h->xsrf_raw);
  gust_buf_free(&h->user);
  gust__free(mem, h->args);
  gust__free(mem, h->present);
  gust__free(mem, h->state);
  gust__free(mem, h->reason);
  gust__free(mem, h->err_reason);
  gust__free(mem, h->err_log);
  if (h->req != NULL) {
    gust_http_request_set_close_callback(h->req, NULL, NULL);
    if (gust_http_request_user_data(h->req) == h)
      gust_http_request_set_user_data(h->req, NULL);
    gust_http_request_unref(h->req);
  }
  gust__free(mem, h);
  app_unref(app);
}

gust_web_handler *gust_web_handler_ref(gust_web_handler *h) {
  if (h != NULL)
    h->refs++;
  return h;
}

void gust_web_handler_unref(gust_web_handler *h) {
  if (h != NULL && --h->refs == 0)
    handler_release(h);
}

static const char *cls_name(const gust_web_handler *h) {
  return h->cls->name != NULL ? h->cls->name : "handler";
}

/* The 404 page for requests no route matches. */
static int notfound_prepare(gust_web_handler *h, gust_future **wait) {
  GUST__UNUSED(wait);
  return gust_web_http_error(h, 404, NULL);
}

static const gust_web_handler_class notfound_class = {
    .name = "ErrorHandler",
    .prepare = notfound_prepare,
};

/* Matches the path against the routes; fills the path arguments. */
static int route_match(gust_web_handler *h, const char *path) {
  gust_web_app *app = h->app;
  size_t plen = strlen(path);
  for (size_t i = 0; i < app->nroutes; i++) {
    gust__web_route *r = &app->routes[i];
    PCRE2_SIZE *ov;
    size_t *offs;
    int rc =
        pcre2_match(r->re, (PCRE2_SPTR)path, plen, 0, 0, r->md, app->pmatch);
    if (rc == PCRE2_ERROR_NOMATCH)
      continue;
    if (rc == PCRE2_ERROR_NOMEMORY)
      return GUST_ENOMEM;
    if (rc < 0) {
      gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING,
               "route %s: match failed (%d)", r->pattern, rc);
      continue;
    }
    h->route = r;
    h->cls = r->cls;
    h->class_data = r->class_data;
    h->nargs = r->ngroups;
    if (h->nargs == 0)
      return 0;
    ov = pcre2_get_ovector_pointer(r->md);
    h->args = gust__calloc(h->mem, h->nargs, sizeof *h->args);
    h->present = gust__calloc(h->mem, h->nargs, 1);
    offs = gust__calloc(h->mem, h->nargs, sizeof *offs);
    if (h->args == NULL || h->present == NULL || offs == NULL) {
      gust__free(h->mem, offs);
      return GUST_ENOMEM;
    }
    for (size_t g = 0; g < h->nargs; g++) {
      PCRE2_SIZE s = ov[2 * (g + 1)], e = ov[2 * (g + 1) + 1];
      offs[g] = h->argbuf.len;
      if (s == PCRE2_UNSET)
        continue;
      h->present[g] = 1;
      if (gust_url_unescape((const uint8_t *)path + s, e - s, 0, &h->argbuf) <
          0) {
        gust__free(h->mem, offs);
        return GUST_ENOMEM;
      }
      h->args[g].len = h->argbuf.len - offs[g];
    }
    for (size_t g = 0; g < h->nargs; g++)
      h->args[g].ptr =
          h->argbuf.ptr != NULL ? h->argbuf.ptr + offs[g] : (const uint8_t *)"";
    gust__free(h->mem, offs);
    return 0;
  }
  h->cls = app->st.default_handler != NULL ? app->st.default_handler
                                           : &notfound_class;
  h->class_data = app->st.default_handler_data;
  return 0;
}

int gust_web_path_kwarg(const gust_web_handler *h, const char *name,
                        gust_slice *value) {
  int n;
  if (h == NULL || name == NULL || h->route == NULL)
    return GUST_ENOTFOUND;
  n = pcre2_substring_number_from_name(h->route->re, (PCRE2_SPTR)name);
  if (n <= 0)
    return GUST_ENOTFOUND;
  return gust_web_path_arg(h, (size_t)n - 1, value);
}

/* ------------------------------------------------------------------ */
/* The step chain                                                       */
/* ------------------------------------------------------------------ */

static void run(gust_web_handler *h);

static void step_done(gust_future *f, void *ud) {
  gust_web_handler *h = ud;
  int code = gust_future_error(f);
  h->waiting = 0;
  if (code != 0 && h->step != GUST__WEB_S_DONE) {
    const char *msg = gust_future_error_message(f);
    gust__web_handle_error(h, code, msg);
  }
  gust_future_unref(f);
  if (h->gate != NULL) {
    gust_future_set_result(h->gate, NULL, NULL);
    gust_future_unref(h->gate);
    h->gate = NULL;
  }
  if (h->step != GUST__WEB_S_DONE)
    run(h);
  else if (h->running) {
    h->running = 0;
    gust_web_handler_unref(h);
  }
  gust_web_handler_unref(h);
}

/* Takes the outcome of a step: 1 = go on now, 0 = wait (or stop). */
static int step_result(gust_web_handler *h, int rc, gust_future *w) {
  if (rc < 0) {
    if (w != NULL) {
      /* Nobody will wait for it: cancelling tells the work behind it to
       * stop (and marks its outcome as seen). */
      gust_future_cancel(w);
      gust_future_unref(w);
    }
    gust__web_handle_error(h, rc, NULL);
    return 1;
  }
  if (w == NULL)
    return 1;
  h->waiting = 1;
  gust_web_handler_ref(h);
  if (gust_future_add_done_callback(w, step_done, h) < 0) {
    h->waiting = 0;
    gust_web_handler_unref(h);
    gust_future_cancel(w);
    gust_future_unref(w);
    gust__web_handle_error(h, GUST_ENOMEM, NULL);
    return 1;
  }
  return 0;
}

static gust_web_method method_of(const gust_web_handler *h, int *known) {
  const char *m = gust_http_request_method(h->req);
  const gust_web_handler_class *c = h->cls;
  *known = 1;
  if (strcmp(m, "GET") == 0)
    return c->get;
  if (strcmp(m, "HEAD") == 0)
    return c->head;
  if (strcmp(m, "POST") == 0)
    return c->post;
  if (strcmp(m, "PUT") == 0)
    return c->put;
  if (strcmp(m, "DELETE") == 0)
    return c->del;
  if (strcmp(m, "PATCH") == 0)
    return c->patch;
  if (strcmp(m, "OPTIONS") == 0)
    return c->options;
  *known = 0;
  return NULL;
}

static void run(gust_web_handler *h) {
  gust_future *w;
  int rc, known;
  gust_web_method fn;
  while (!h->waiting) {
    switch (h->step) {
    case GUST__WEB_S_CHECK:
      h->step = GUST__WEB_S_XSRF;
      method_of(h, &known);
      if (!known) {
        gust__web_handle_error(h, gust_web_http_error(h, 405, NULL), NULL);
      }
      break;
    case GUST__WEB_S_XSRF: {
      const char *m = gust_http_request_method(h->req);
      h->step = GUST__WEB_S_PREPARE;
      if (h->app->st.xsrf_cookies && h->cls != &notfound_class &&
          strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 &&
          strcmp(m, "OPTIONS") != 0) {
        rc = gust_web_check_xsrf_cookie(h);
        if (rc < 0)
          gust__web_handle_error(h, rc, NULL);
      }
      break;
    }
    case GUST__WEB_S_PREPARE:
      h->step = GUST__WEB_S_BODY;
      if (h->cls->prepare != NULL) {
        w = NULL;
        rc = h->cls->prepare(h, &w);
        if (!step_result(h, rc, w))
          return;
      }
      break;
    case GUST__WEB_S_BODY:
      if (h->finished) {
        h->step = GUST__WEB_S_DONE;
        break;
      }
      if (!h->body_done) {
        if (h->conn_closed)
          h->step = GUST__WEB_S_DONE;
        else
          return; /* data_received / finish take it from here */
        break;
      }
      h->step = GUST__WEB_S_METHOD;
      break;
    case GUST__WEB_S_METHOD:
      h->step = GUST__WEB_S_FINISH;
      fn = method_of(h, &known);
      if (fn == NULL) {
        gust__web_handle_error(h, gust_web_http_error(h, 405, NULL), NULL);
        break;
      }
      w = NULL;
      rc = fn(h, &w);
      if (!step_result(h, rc, w))
        return;
      break;
    case GUST__WEB_S_FINISH:
      h->step = GUST__WEB_S_DONE;
      if (!h->finished) {
        rc = gust_web_finish(h, NULL);
        if (rc < 0 && rc != GUST_ECLOSED)
          gust_log(GUST_LOG_APPLICATION, GUST_LOG_ERROR,
                   "%s: finishing the response failed: %s", cls_name(h),
                   gust_strerror(rc));
      }
      break;
    case GUST__WEB_S_DONE:
    default:
      if (h->running) {
        h->running = 0;
        gust_web_handler_unref(h);
      }
      return;
    }
  }
}

/* ------------------------------------------------------------------ */
/* WebSocket routes                                                     */
/* ------------------------------------------------------------------ */

static int ws_check_origin(gust_http_request *req, gust_slice origin,
                           void *ud) {
  gust_web_handler *h = ud;
  const gust_web_socket_class *wc = h->cls->websocket;
  if (wc->check_origin != NULL)
    return wc->check_origin(h, origin);
  return gust_ws_check_origin(origin,
                              gust_slice_cstr(gust_http_request_host(req)));
}

static int ws_select(gust_http_request *req, const gust_slice *offered,
                     size_t n, void *ud) {
  gust_web_handler *h = ud;
  GUST__UNUSED(req);
  if (h->cls->websocket->select_subprotocol == NULL)
    return -1;
  return h->cls->websocket->select_subprotocol(h, offered, n);
}

static int ws_open(gust_websocket *ws, void *ud, gust_future **wait) {
  gust_web_handler *h = ud;
  h->ws = ws;
  if (h->cls->websocket->open == NULL)
    return 0;
  return h->cls->websocket->open(h, ws, wait);
}

static int ws_message(gust_websocket *ws, const gust_websocket_message *msg,
                      void *ud, gust_future **wait) {
  gust_web_handler *h = ud;
  return h->cls->websocket->on_message(h, ws, msg, wait);
}

static void ws_ping(gust_websocket *ws, gust_slice data, void *ud) {
  gust_web_handler *h = ud;
  if (h->cls->websocket->on_ping != NULL)
    h->cls->websocket->on_ping(h, ws, data);
}

static void ws_pong(gust_websocket *ws, gust_slice data, void *ud) {
  gust_web_handler *h = ud;
  if (h->cls->websocket->on_pong != NULL)
    h->cls->websocket->on_pong(h, ws, data);
}

static void ws_close(gust_websocket *ws, void *ud) {
  gust_web_handler *h = ud;
  if (h->cls->websocket->on_close != NULL)
    h->cls->websocket->on_close(h, ws);
  h->ws = NULL;
  gust_web_handler_unref(h); /* the connection's reference */
}

/* Runs initialize and prepare, then upgrades (in headers_received). */
static int ws_route(gust_web_handler *h) {
  gust_future *w = NULL;
  int rc;
  if (h->cls->prepare != NULL) {
    rc = h->cls->prepare(h, &w);
    if (w != NULL) {
      gust_future_unref(w);
      rc = GUST_EINVAL;
      gust__web_handle_error(h, rc,
                             "prepare of a WebSocket route must not wait");
      return 0;
    }
    if (rc < 0) {
      gust__web_handle_error(h, rc, NULL);
      return 0;
    }
    if (h->finished)
      return 0;
  }
  h->wsh.check_origin = ws_check_origin;
  h->wsh.select_subprotocol = ws_select;
  h->wsh.open = ws_open;
  h->wsh.on_message = h->cls->websocket->on_message ? ws_message : NULL;
  h->wsh.on_ping = ws_ping;
  h->wsh.on_pong = ws_pong;
  h->wsh.on_close = ws_close;
  gust_web_handler_ref(h); /* the connection's, dropped by ws_close */
  rc =
      gust_websocket_upgrade(h->req, &h->wsh, h->cls->websocket->opts, h, NULL);
  if (rc == 0) {
    /* the request left HTTP: no finish or close callback follows */
    h->in_request = 0;
    h->finished = 1;
    h->status = 101;
    gust__web_log_request(h);
    gust_web_handler_unref(h); /* the request's reference */
    return 0;
  }
  gust_web_handler_unref(h);
  if (rc == GUST_EWS_HANDSHAKE) {
    /* refused with an ordinary response, already sent */
    h->finished = 1;
    h->headers_written = 1;
    return 0;
  }
  gust__web_handle_error(h, rc, NULL);
  return 0;
}

/* ------------------------------------------------------------------ */
/* The HTTP delegate                                                    */
/* ------------------------------------------------------------------ */

static void close_cb(gust_http_request *req, void *ud);

static int d_headers(gust_http_request *req, void *ctx, gust_future **wait) {
  gust_web_handler *h = ctx;
  int rc;
  GUST__UNUSED(req);
  GUST__UNUSED(wait);
  if (h->cls->initialize != NULL) {
    rc = h->cls->initialize(h);
    h->initialized = 1;
    if (rc < 0) {
      h->step = GUST__WEB_S_DONE;
      gust__web_handle_error(h, rc, NULL);
      return 0;
    }
  }
  h->initialized = 1;
  if (h->cls->websocket != NULL &&
      strcmp(gust_http_request_method(h->req), "GET") == 0) {
    h->step = GUST__WEB_S_DONE;
    gust_web_handler_ref(h);
    rc = ws_route(h);
    gust_web_handler_unref(h);
    return rc;
  }
  if (h->stream_body) {
    h->running = 1;
    gust_web_handler_ref(h);
    gust_web_handler_ref(h);
    run(h);
    /* the body waits until prepare's future resolved */
    if (h->waiting && gust_future_new(&h->gate, h->loop, NULL) == 0)
      *wait = gust_future_ref(h->gate);
    gust_web_handler_unref(h);
  }
  return 0;
}

static int d_data(gust_http_request *req, gust_slice chunk, void *ctx,
                  gust_future **wait) {
  gust_web_handler *h = ctx;
  if (!h->stream_body)
    return gust__http_request_append_body(req, chunk.ptr, chunk.len);
  if (h->finished || h->step == GUST__WEB_S_DONE)
    return 0; /* answered already: drop the rest */
  if (h->cls->data_received == NULL)
    return 0;
  {
    int rc = h->cls->data_received(h, chunk, wait);
    if (rc < 0) {
      if (wait != NULL && *wait != NULL) {
        gust_future_unref(*wait);
        *wait = NULL;
      }
      gust__web_handle_error(h, rc, NULL);
      h->step = GUST__WEB_S_DONE;
    }
  }
  return 0;
}

static void d_finish(gust_http_request *req, void *ctx) {
  gust_web_handler *h = ctx;
  h->body_done = 1;
  /* from here the server tells a lost client through the close callback */
  if (!h->finished)
    gust_http_request_set_close_callback(req, close_cb, h);
  h->in_request = 0;
  if (!h->stream_body) {
    if (h->step != GUST__WEB_S_DONE) {
      h->running = 1;
      gust_web_handler_ref(h);
      run(h);
    }
  } else if (h->running && !h->waiting && h->step == GUST__WEB_S_BODY) {
    run(h);
  }
  gust_web_handler_unref(h); /* the request's reference */
}

/* The client went away before the response finished (while the body was
 * read, or later while the handler worked). */
static void conn_lost(gust_web_handler *h) {
  if (h->conn_closed)
    return;
  h->conn_closed = 1;
  if (!h->finished && h->initialized && h->cls->on_connection_close != NULL)
    h->cls->on_connection_close(h);
  if (h->running && !h->waiting && h->step == GUST__WEB_S_BODY)
    run(h);
}

static void close_cb(gust_http_request *req, void *ud) {
  gust_web_handler *h = ud;
  GUST__UNUSED(req);
  gust_web_handler_ref(h);
  conn_lost(h);
  gust_web_handler_unref(h);
}

static void d_close(gust_http_request *req, void *ctx) {
  gust_web_handler *h = ctx;
  h->in_request = 0;
  gust_http_request_set_close_callback(req, NULL, NULL);
  conn_lost(h);
  gust_web_handler_unref(h); /* the request's reference */
}

static const gust_http_delegate web_delegate = {
    .headers_received = d_headers,
    .data_received = d_data,
    .finish = d_finish,
    .on_connection_close = d_close,
};

int gust_web_app_start_request(gust_http_server *srv, gust_http_request *req,
                               void *ud, const gust_http_delegate **delegate,
                               void **ctx) {
  gust_web_app *app = ud;
  gust_web_handler *h;
  int rc;
  GUST__UNUSED(srv);
  if (app == NULL || req == NULL || delegate == NULL || ctx == NULL)
    return GUST_EINVAL;
  h = gust__calloc(app->mem, 1, sizeof *h);
  if (h == NULL)
    return GUST_ENOMEM;
  h->refs = 1; /* the request's, dropped at finish / close / upgrade */
  h->app = app;
  app->refs++;
  h->mem = app->mem;
  h->loop = app->loop;
  h->req = gust_http_request_ref(req);
  h->in_request = 1;
  h->step = GUST__WEB_S_CHECK;
  gust_buf_init(&h->argbuf, app->mem);
  gust_buf_init(&h->xsrf_raw, app->mem);
  gust_buf_init(&h->user, app->mem);
  gust_headers_init(&h->headers, app->mem);
  gust_buf_init(&h->body, app->mem);
  rc = route_match(h, gust_http_request_path(req));
  if (rc == 0)
    rc = gust__web_handler_init_response(h);
  if (rc == 0 && h->cls->state_size > 0) {
    h->state = gust__calloc(app->mem, 1, h->cls->state_size);
    if (h->state == NULL)
      rc = GUST_ENOMEM;
  }
  if (rc < 0) {
    if (h->cls == NULL)
      h->cls = &notfound_class;
    handler_release(h);
    return rc;
  }
  h->stream_body = (h->cls->flags & GUST_WEB_STREAM_BODY) != 0;
  h->is_head = strcmp(gust_http_request_method(req), "HEAD") == 0;
  gust_http_request_set_user_data(req, h);
  *delegate = &web_delegate;
  *ctx = h;
  return 0;
}

int gust_web_app_listen(gust_web_app *app, const char *host, int port,
                        const gust_http_server_opts *opts,
                        gust_http_server **out) {
  gust_http_server *srv;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (app == NULL)
    return GUST_EINVAL;
  rc = gust_http_server_new(&srv, app->loop, opts, gust_web_app_start_request,
                            app, app->mem);
  if (rc < 0)
    return rc;
  if (port >= 0) {
    rc = gust_http_server_listen(srv, host, port, NULL);
    if (rc < 0) {
      gust_http_server_free(srv);
      return rc;
    }
  }
  *out = srv;
  return 0;
}
