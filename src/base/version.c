/* Library version queries. */
#include "config.h"

#include <gust/base.h>
#include <gust/version.h>

const char *gust_version(void) { return GUST_VERSION_STRING; }

int gust_version_number(void) { return GUST_VERSION_NUMBER; }
