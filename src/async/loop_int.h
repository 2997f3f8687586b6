/* The contract between the loop front end and the loop backends
 * (backends/loop-libev.c, backends/loop-libuv.c). Not installed. */
#ifndef GUST_LOOP_INT_H
#define GUST_LOOP_INT_H

#include <gust/loop.h>

typedef struct gust__loop_vtable {
  const char *name;             /* "libuv" or "libev" */
  const char *(*version)(void); /* the linked library's version */
} gust__loop_vtable;

/* Exactly one backend file is compiled in; it defines this table. */
extern const gust__loop_vtable gust__loop_backend;

#endif /* GUST_LOOP_INT_H */
