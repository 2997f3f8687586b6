/* Login with a signed cookie, logout, and the XSRF-protected "set your
 * status" form of the demo. */
#include "demo.h"

#include <stdlib.h>
#include <string.h>

static demo *demo_of(gust_web_handler *h) { return gust_web_class_data(h); }

/* A "next" target that stays on this site, else "/". */
static const char *safe_next(const char *next) {
  if (next == NULL || next[0] != '/' || next[1] == '/' || next[1] == '\\')
    return "/";
  return next;
}

static int login_form(gust_web_handler *h, const char *error,
                      const char *name) {
  const char *form, *next;
  int rc;
  if ((rc = gust_web_get_argument(h, "next", "/", &next)) < 0 ||
      (rc = gust_web_xsrf_form_html(h, &form)) < 0 ||
      (rc = demo_page_begin(h, "Log in", "")) < 0)
    return rc;
  gust_web_write_str(h, "<section class=\"card narrow\">\n<h1>Log in</h1>\n"
                        "<p class=\"muted\">Pick any name: it is kept in a "
                        "signed cookie, nothing else is stored.</p>\n");
  if (error != NULL) {
    gust_web_write_str(h, "<p class=\"error\" role=\"alert\">");
    gust_web_write_escaped(h, error, strlen(error));
    gust_web_write_str(h, "</p>\n");
  }
  gust_web_write_str(h, "<form id=\"login-form\" method=\"post\" "
                        "action=\"/login\">\n");
  gust_web_write_str(h, form);
  gust_web_write_str(h, "\n<input type=\"hidden\" name=\"next\" value=\"");
  next = safe_next(next);
  gust_web_write_escaped(h, next, strlen(next));
  gust_web_writef(h,
                  "\">\n<label>Name <input id=\"login-name\" name=\"name\" "
                  "maxlength=\"%d\" autocomplete=\"username\" required "
                  "autofocus value=\"",
                  DEMO_NAME_MAX);
  if (name != NULL)
    gust_web_write_escaped(h, name, strlen(name));
  gust_web_write_str(h, "\"></label>\n<button type=\"submit\">Log in</button>\n"
                        "</form>\n</section>\n");
  return demo_page_end(h, NULL);
}

static int login_get(gust_web_handler *h, gust_future **wait) {
  (void)wait;
  return login_form(h, NULL, NULL);
}

static int login_post(gust_web_handler *h, gust_future **wait) {
  const char *name, *next;
  size_t len;
  int rc;
  (void)wait;
  if ((rc = gust_web_get_argument(h, "name", "", &name)) < 0 ||
      (rc = gust_web_get_argument(h, "next", "/", &next)) < 0)
    return rc;
  len = strlen(name);
  if (len == 0 || len > DEMO_NAME_MAX) {
    gust_web_set_status(h, 400, NULL);
    return login_form(h,
                      len == 0 ? "Please enter a name."
                               : "That name is too long (40 bytes at most).",
                      NULL);
  }
  rc = gust_web_set_secure_cookie(h, "user", name, len, NULL, 0);
  if (rc < 0)
    return rc;
  return gust_web_redirect(h, safe_next(next), 302);
}

static int logout_post(gust_web_handler *h, gust_future **wait) {
  int rc;
  (void)wait;
  rc = gust_web_clear_cookie(h, "user", NULL, NULL);
  if (rc < 0)
    return rc;
  return gust_web_redirect(h, "/login", 302);
}

/* ---- "set your status" ---- */

const char *demo_status_of(demo *d, const char *user) {
  size_t i;
  for (i = 0; i < d->n_statuses; i++)
    if (strcmp(d->statuses[i].user, user) == 0)
      return d->statuses[i].status;
  return NULL;
}

static int set_status(demo *d, const char *user, const char *status) {
  size_t i;
  char *copy = demo_strdup(status);
  if (copy == NULL)
    return GUST_ENOMEM;
  for (i = 0; i < d->n_statuses; i++) {
    if (strcmp(d->statuses[i].user, user) == 0) {
      free(d->statuses[i].status);
      d->statuses[i].status = copy;
      return 0;
    }
  }
  if (d->n_statuses == d->cap_statuses) {
    size_t ncap = d->cap_statuses ? d->cap_statuses * 2 : 8;
    demo_status *p = realloc(d->statuses, ncap * sizeof(*p));
    if (p == NULL) {
      free(copy);
      return GUST_ENOMEM;
    }
    d->statuses = p;
    d->cap_statuses = ncap;
  }
  d->statuses[d->n_statuses].user = demo_strdup(user);
  if (d->statuses[d->n_statuses].user == NULL) {
    free(copy);
    return GUST_ENOMEM;
  }
  d->statuses[d->n_statuses++].status = copy;
  return 0;
}

static int profile_get(gust_web_handler *h, gust_future **wait) {
  demo *d = demo_of(h);
  gust_slice user;
  char name[DEMO_NAME_MAX + 1];
  const char *form, *mine;
  size_t i;
  int rc;
  (void)wait;
  if ((rc = gust_web_authenticated(h)) < 0)
    return rc;
  gust_web_current_user(h, &user);
  memcpy(name, user.ptr, user.len);
  name[user.len] = '\0';
  mine = demo_status_of(d, name);
  if ((rc = gust_web_xsrf_form_html(h, &form)) < 0 ||
      (rc = demo_page_begin(h, "Profile", "Profile")) < 0)
    return rc;
  gust_web_write_str(h, "<section class=\"card narrow\">\n<h1>Your status</h1>"
                        "\n<p class=\"muted\">An XSRF-protected form: the "
                        "hidden <code>_xsrf</code> field must match the "
                        "<code>_xsrf</code> cookie, or the server answers "
                        "403.</p>\n<p>Now: <strong id=\"my-status\">");
  if (mine != NULL)
    gust_web_write_escaped(h, mine, strlen(mine));
  else
    gust_web_write_str(h, "<em>none yet</em>");
  gust_web_write_str(h, "</strong></p>\n<form id=\"status-form\" "
                        "method=\"post\" action=\"/profile\">\n");
  gust_web_write_str(h, form);
  gust_web_writef(h,
                  "\n<label>Status <input id=\"status-input\" "
                  "name=\"status\" maxlength=\"%d\" required></label>\n"
                  "<button type=\"submit\">Save</button>\n</form>\n"
                  "</section>\n<section class=\"card narrow\">\n"
                  "<h2>Everyone</h2>\n<ul class=\"statuses\">\n",
                  DEMO_STATUS_MAX);
  for (i = 0; i < d->n_statuses; i++) {
    gust_web_write_str(h, "<li><strong>");
    gust_web_write_escaped(h, d->statuses[i].user, strlen(d->statuses[i].user));
    gust_web_write_str(h, "</strong> ");
    gust_web_write_escaped(h, d->statuses[i].status,
                           strlen(d->statuses[i].status));
    gust_web_write_str(h, "</li>\n");
  }
  if (d->n_statuses == 0)
    gust_web_write_str(h,
                       "<li class=\"muted\">Nobody has set a status.</li>\n");
  gust_web_write_str(h, "</ul>\n</section>\n");
  return demo_page_end(h, NULL);
}

static int profile_post(gust_web_handler *h, gust_future **wait) {
  gust_slice user;
  char name[DEMO_NAME_MAX + 1];
  const char *status;
  size_t len;
  int rc;
  (void)wait;
  if ((rc = gust_web_authenticated(h)) < 0)
    return rc;
  if ((rc = gust_web_get_argument(h, "status", NULL, &status)) < 0)
    return rc;
  len = strlen(status);
  if (len == 0 || len > DEMO_STATUS_MAX)
    return gust_web_http_error(h, 400, "status of %zu bytes", len);
  gust_web_current_user(h, &user);
  memcpy(name, user.ptr, user.len);
  name[user.len] = '\0';
  if ((rc = set_status(demo_of(h), name, status)) < 0)
    return rc;
  return gust_web_redirect(h, "/profile", 303);
}

static const gust_web_handler_class login_class = {
    .name = "Login",
    .get_current_user = demo_get_current_user,
    .get = login_get,
    .head = login_get,
    .post = login_post,
};

static const gust_web_handler_class logout_class = {
    .name = "Logout",
    .get_current_user = demo_get_current_user,
    .post = logout_post,
};

static const gust_web_handler_class profile_class = {
    .name = "Profile",
    .get_current_user = demo_get_current_user,
    .get = profile_get,
    .head = profile_get,
    .post = profile_post,
};

int demo_auth_routes(demo *d) {
  int rc;
  if ((rc = gust_web_app_add(d->app, "/login", &login_class, d, "login")) < 0 ||
      (rc = gust_web_app_add(d->app, "/logout", &logout_class, d, "logout")) <
          0 ||
      (rc = gust_web_app_add(d->app, "/profile", &profile_class, d,
                             "profile")) < 0)
    return rc;
  return 0;
}

void demo_auth_free(demo *d) {
  size_t i;
  for (i = 0; i < d->n_statuses; i++) {
    free(d->statuses[i].user);
    free(d->statuses[i].status);
  }
  free(d->statuses);
  d->statuses = NULL;
  d->n_statuses = d->cap_statuses = 0;
}
