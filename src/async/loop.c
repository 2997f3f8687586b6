/* The backend-independent front end of the event loop abstraction. */
#include "config.h"

#include <gust/loop.h>

#include "loop_int.h"

const char *gust_loop_backend_name(void) { return gust__loop_backend.name; }

const char *gust_loop_backend_version(void) {
  return gust__loop_backend.version();
}
