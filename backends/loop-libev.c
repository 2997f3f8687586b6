/* Event loop backend over libev (readiness watchers, nonblocking syscalls). */
#include "config.h"

#include <ev.h>
#include <pthread.h>
#include <stdio.h>

#include "../src/async/loop_int.h"

static char ev_version_text[32];
static pthread_once_t ev_version_once = PTHREAD_ONCE_INIT;

static void evb_format_version(void) {
  snprintf(ev_version_text, sizeof(ev_version_text), "%d.%d",
           ev_version_major(), ev_version_minor());
}

/* libev reports its run-time version as two integers. */
static const char *evb_version(void) {
  pthread_once(&ev_version_once, evb_format_version);
  return ev_version_text;
}

const gust__loop_vtable gust__loop_backend = {
    .name = "libev",
    .version = evb_version,
};
