/* Error codes: messages, names and fatality, all generated from the one
 * GUST_ERRNO_MAP table in base.h. */
#include "config.h"

#include <gust/base.h>

const char *gust_strerror(int code) {
  switch (code) {
  case 0:
    return "success";
#define GUST__ERRNO_MSG(name, value, fatal, msg)                               \
  case GUST_E##name:                                                           \
    return msg;
    GUST_ERRNO_MAP(GUST__ERRNO_MSG)
#undef GUST__ERRNO_MSG
  default:
    return "unknown error";
  }
}

const char *gust_errname(int code) {
  switch (code) {
  case 0:
    return "GUST_OK";
#define GUST__ERRNO_NAME(name, value, fatal, msg)                              \
  case GUST_E##name:                                                           \
    return "GUST_E" #name;
    GUST_ERRNO_MAP(GUST__ERRNO_NAME)
#undef GUST__ERRNO_NAME
  default:
    return "GUST_E?";
  }
}

int gust_is_fatal(int code) {
  switch (code) {
#define GUST__ERRNO_FATAL(name, value, fatal, msg)                             \
  case GUST_E##name:                                                           \
    return fatal;
    GUST_ERRNO_MAP(GUST__ERRNO_FATAL)
#undef GUST__ERRNO_FATAL
  default:
    return 0;
  }
}
