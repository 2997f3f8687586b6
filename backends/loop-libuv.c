/* Event loop backend over libuv (uv_tcp_t streams, uv_timer_t, uv_async_t). */
#include "config.h"

#include <uv.h>

#include "../src/async/loop_int.h"

static const char *uvb_version(void) { return uv_version_string(); }

const gust__loop_vtable gust__loop_backend = {
    .name = "libuv",
    .version = uvb_version,
};
