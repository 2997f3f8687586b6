/* gust event loop abstraction: one interface over the libev and libuv
 * backends chosen at configure time. */
#ifndef GUST_LOOP_H
#define GUST_LOOP_H

#include <gust/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returns the name of the loop backend this library was built with:
 * "libuv" or "libev". */
GUST_EXTERN const char *gust_loop_backend_name(void);

/* Returns the version of the loop library linked at run time, e.g. "1.44.2"
 * or "4.33". */
GUST_EXTERN const char *gust_loop_backend_version(void);

#ifdef __cplusplus
}
#endif

#endif /* GUST_LOOP_H */
