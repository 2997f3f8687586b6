/* Shared state and helpers of the gust demo server (examples/demo). */
#ifndef GUST_DEMO_H
#define GUST_DEMO_H

#include <gust/web.h>

#include <stddef.h>
#include <stdint.h>

/* Limits of the chat. */
#define DEMO_CHAT_CACHE    200 /* messages kept for late joiners */
#define DEMO_CHAT_MAX_BODY 500 /* bytes of text per message */
#define DEMO_NAME_MAX      40  /* bytes of a user name */
#define DEMO_STATUS_MAX    140 /* bytes of a status line */

typedef struct demo_message {
  uint64_t id;
  char *from;
  char *body;
} demo_message;

typedef struct demo_upload_entry {
  char *name;
  uint64_t size;
  char sha256[65];
} demo_upload_entry;

typedef struct demo_status {
  char *user;
  char *status;
} demo_status;

/* The whole server: one per process, shared by every handler class as
 * the routes' class data. */
typedef struct demo {
  gust_loop *loop;
  gust_web_app *app;
  gust_http_server *server;
  gust_secrets *secrets;
  const char *upload_dir; /* absolute */
  uint64_t max_upload;
  int shutting_down;
  /* chat */
  demo_message cache[DEMO_CHAT_CACHE];
  size_t cache_start, cache_len; /* ring buffer */
  uint64_t next_id;
  gust_web_handler **waiters; /* long polls (referenced) */
  size_t n_waiters, cap_waiters;
  gust_web_handler **sockets; /* open chat WebSockets */
  size_t n_sockets, cap_sockets;
  /* uploads */
  demo_upload_entry *uploads;
  size_t n_uploads, cap_uploads;
  gust_web_handler **active_uploads; /* bodies being received */
  size_t n_active, cap_active;
  /* "set your status" */
  demo_status *statuses;
  size_t n_statuses, cap_statuses;
} demo;

/* A growable array of pointers: appends `item`; returns 0 or GUST_ENOMEM. */
int demo_ptr_push(void ***arr, size_t *n, size_t *cap, void *item);
/* Removes `item` (first occurrence) and returns 1, or 0 when absent. */
int demo_ptr_remove(void **arr, size_t *n, const void *item);
/* strdup that reports failure as NULL. */
char *demo_strdup(const char *s);

/* The signed-cookie user of a request (get_current_user of every class). */
int demo_get_current_user(gust_web_handler *h, gust_buf *user);

/* Page frame: doctype, head with the versioned stylesheet, the navigation
 * (`active` names the current tab) and the user bar; then the page's own
 * markup; then page_end with the scripts to load (NULL-terminated list of
 * static paths). */
int demo_page_begin(gust_web_handler *h, const char *title, const char *active);
int demo_page_end(gust_web_handler *h, const char *const *scripts);

/* The status a user set, or NULL. */
const char *demo_status_of(demo *d, const char *user);

/* Route tables of each part; demo_add_routes adds them all. */
int demo_auth_routes(demo *d);
int demo_chat_routes(demo *d);
int demo_upload_routes(demo *d);

/* Shutdown: answers long polls, cuts uploads in progress (their files are
 * removed). */
void demo_chat_shutdown(demo *d);
void demo_upload_shutdown(demo *d);
/* Frees what the parts hold at exit. */
void demo_chat_free(demo *d);
void demo_upload_free(demo *d);
void demo_auth_free(demo *d);

#endif /* GUST_DEMO_H */
