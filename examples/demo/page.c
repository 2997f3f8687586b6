/* HTML helpers of the demo: escaping, the page frame, the signed-cookie
 * user, and small containers shared by the parts. */
#include "demo.h"

#include <stdlib.h>
#include <string.h>

int demo_ptr_push(void ***arr, size_t *n, size_t *cap, void *item) {
  if (*n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 8;
    void **p = realloc(*arr, ncap * sizeof(*p));
    if (p == NULL)
      return GUST_ENOMEM;
    *arr = p;
    *cap = ncap;
  }
  (*arr)[(*n)++] = item;
  return 0;
}

int demo_ptr_remove(void **arr, size_t *n, const void *item) {
  size_t i;
  for (i = 0; i < *n; i++) {
    if (arr[i] == item) {
      memmove(arr + i, arr + i + 1, (*n - i - 1) * sizeof(*arr));
      (*n)--;
      return 1;
    }
  }
  return 0;
}

char *demo_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p != NULL)
    memcpy(p, s, n);
  return p;
}

int demo_get_current_user(gust_web_handler *h, gust_buf *user) {
  gust_buf v;
  int rc;
  gust_buf_init(&v, NULL);
  rc = gust_web_get_secure_cookie(h, "user", 31, 0, &v);
  if (rc == GUST_ENOMEM) {
    gust_buf_free(&v);
    return rc;
  }
  if (rc < 0 || v.len == 0 || v.len > DEMO_NAME_MAX) {
    gust_buf_free(&v); /* absent, forged or expired: nobody */
    return 0;
  }
  rc = gust_buf_append(user, v.ptr, v.len);
  gust_buf_free(&v);
  return rc < 0 ? rc : 1;
}

static int write_static_url(gust_web_handler *h, const char *path) {
  gust_buf url;
  int rc;
  gust_buf_init(&url, NULL);
  rc = gust_web_static_url(h, path, 1, &url);
  if (rc == 0)
    rc = gust_web_write_escaped(h, url.ptr, url.len);
  gust_buf_free(&url);
  return rc;
}

static int nav_link(gust_web_handler *h, const char *href, const char *label,
                    const char *active) {
  return gust_web_writef(h, "<a href=\"%s\"%s>%s</a>", href,
                         strcmp(label, active) == 0 ? " class=\"active\"" : "",
                         label);
}

int demo_page_begin(gust_web_handler *h, const char *title,
                    const char *active) {
  gust_slice user = {NULL, 0};
  const char *form;
  int rc, logged_in;
  logged_in = gust_web_current_user(h, &user);
  if (logged_in < 0)
    return logged_in;
  /* every page sets the XSRF cookie that the scripts send back */
  if ((rc = gust_web_xsrf_form_html(h, &form)) < 0)
    return rc;
  gust_web_write_str(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                        "<meta charset=\"utf-8\">\n"
                        "<meta name=\"viewport\" "
                        "content=\"width=device-width, initial-scale=1\">\n"
                        "<title>");
  gust_web_write_escaped(h, title, strlen(title));
  gust_web_write_str(h,
                     " · gust demo</title>\n<link rel=\"stylesheet\" href=\"");
  write_static_url(h, "demo.css");
  gust_web_write_str(h, "\">\n<link rel=\"icon\" href=\"");
  write_static_url(h, "favicon.svg");
  gust_web_write_str(
      h, "\" type=\"image/svg+xml\">\n</head>\n<body>\n"
         "<header class=\"top\">\n"
         "<a class=\"brand\" href=\"/\">gust <span>demo</span></a>\n"
         "<nav>");
  nav_link(h, "/", "Chat", active);
  nav_link(h, "/upload", "Upload", active);
  nav_link(h, "/profile", "Profile", active);
  gust_web_write_str(h, "</nav>\n<div class=\"who\">");
  if (logged_in == 1) {
    gust_web_write_str(h, "<span id=\"current-user\">");
    gust_web_write_escaped(h, user.ptr, user.len);
    gust_web_write_str(h, "</span><form method=\"post\" action=\"/logout\">");
    gust_web_write_str(h, form);
    gust_web_write_str(h, "<button class=\"link\" type=\"submit\">Log out"
                          "</button></form>");
  } else {
    gust_web_write_str(h, "<a href=\"/login\">Log in</a>");
  }
  rc = gust_web_write_str(h, "</div>\n</header>\n<main>\n");
  return rc;
}

int demo_page_end(gust_web_handler *h, const char *const *scripts) {
  gust_web_write_str(h, "</main>\n<footer>Served by gust ");
  gust_web_write_escaped(h, gust_version(), strlen(gust_version()));
  gust_web_write_str(h, " — Tornado's protocol stack in C.</footer>\n");
  for (; scripts != NULL && *scripts != NULL; scripts++) {
    gust_web_write_str(h, "<script src=\"");
    write_static_url(h, *scripts);
    gust_web_write_str(h, "\"></script>\n");
  }
  return gust_web_write_str(h, "</body>\n</html>\n");
}
