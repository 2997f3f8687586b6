/* Tests of the version queries and the loop backend identification. */
#include <gust/base.h>
#include <gust/loop.h>
#include <gust/version.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"

/* Parses "MAJOR.MINOR.PATCH" strictly (digits only, no sign, no leading
 * zero unless the number is 0). Returns 1 on success. */
static int parse_version(const char *s, int *major, int *minor, int *patch) {
  int *out[3];
  int i;
  out[0] = major;
  out[1] = minor;
  out[2] = patch;
  for (i = 0; i < 3; i++) {
    long v = 0;
    const char *start = s;
    while (*s >= '0' && *s <= '9') {
      v = v * 10 + (*s - '0');
      if (v > 99999)
        return 0;
      s++;
    }
    if (s == start || (s - start > 1 && *start == '0'))
      return 0;
    *out[i] = (int)v;
    if (i < 2 && *s++ != '.')
      return 0;
  }
  return *s == '\0';
}

int main(void) {
  if (tap_group("version: library version")) {
    const char *v = gust_version();
    int major = -1, minor = -1, patch = -1;
    ok(v != NULL, "version: gust_version() is not NULL");
    is_str(v, GUST_VERSION_STRING,
           "version: gust_version() equals GUST_VERSION_STRING");
    ok(v != NULL && parse_version(v, &major, &minor, &patch),
       "version: '%s' has the form MAJOR.MINOR.PATCH", v ? v : "NULL");
    is_int(major, GUST_VERSION_MAJOR, "version: major matches the macro");
    is_int(minor, GUST_VERSION_MINOR, "version: minor matches the macro");
    is_int(patch, GUST_VERSION_PATCH, "version: patch matches the macro");
    ok(minor < 100 && patch < 100,
       "version: minor and patch fit the number's two-digit fields");
    is_int(gust_version_number(), GUST_VERSION_NUMBER,
           "version: gust_version_number() equals GUST_VERSION_NUMBER");
    is_int(gust_version_number(),
           GUST_VERSION_MAJOR * 10000 + GUST_VERSION_MINOR * 100 +
               GUST_VERSION_PATCH,
           "version: number is MAJOR * 10000 + MINOR * 100 + PATCH");
    is_int(gust_version_number(), major * 10000 + minor * 100 + patch,
           "version: number agrees with the parsed string");
    ok(gust_version() == v, "version: the string is static (same pointer)");
    ok(parse_version("0.1.0", &major, &minor, &patch) &&
           !parse_version("0.1", &major, &minor, &patch) &&
           !parse_version("0.1.0.1", &major, &minor, &patch) &&
           !parse_version("01.1.0", &major, &minor, &patch) &&
           !parse_version("0.1.0-rc1", &major, &minor, &patch) &&
           !parse_version("0..0", &major, &minor, &patch),
       "version: the format checker itself rejects malformed strings");
  }

  if (tap_group("version: loop backend")) {
    const char *n = gust_loop_backend_name();
    const char *v = gust_loop_backend_version();
    ok(n != NULL && (strcmp(n, "libuv") == 0 || strcmp(n, "libev") == 0),
       "loop: backend name is libuv or libev (%s)", n ? n : "NULL");
    ok(v != NULL && v[0] != '\0', "loop: backend version is not empty (%s)",
       v ? v : "NULL");
    ok(v != NULL && v[0] >= '0' && v[0] <= '9' && strchr(v, '.') != NULL,
       "loop: backend version looks like a dotted number");
    ok(gust_loop_backend_version() != NULL &&
           strcmp(gust_loop_backend_version(), v) == 0,
       "loop: the version is stable between calls");
  }

  return done_testing();
}
