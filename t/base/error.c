/* Tests of the error codes: the GUST_ERRNO_MAP table and the functions
 * generated from it (gust_strerror, gust_errname, gust_is_fatal). */
#include <gust/base.h>

#include <stdio.h>
#include <string.h>

#include "../tap.h"

/* The table as data, built from the same X-macro the library uses. */
struct code_row {
  const char *name;
  int value;
  int fatal;
  const char *msg;
};

static const struct code_row rows[] = {
#define ROW(name, value, fatal, msg) {#name, GUST_E##name, fatal, msg},
    GUST_ERRNO_MAP(ROW)
#undef ROW
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static int in_table(int code) {
  size_t i;
  for (i = 0; i < NROWS; i++)
    if (rows[i].value == code)
      return 1;
  return 0;
}

int main(void) {
  size_t i, j;

  if (tap_group("error: table")) {
    ok(NROWS >= 25, "error: the table lists at least the 25 codes of v0.1");
    for (i = 0; i < NROWS; i++) {
      const struct code_row *r = &rows[i];
      int dup = 0;
      ok(r->value >= -999 && r->value <= -1,
         "error: GUST_E%s = %d lies in [-999, -1]", r->name, r->value);
      for (j = 0; j < NROWS; j++)
        if (j != i && rows[j].value == r->value)
          dup = 1;
      ok(!dup, "error: GUST_E%s has a value no other code uses", r->name);
      ok(r->fatal == 0 || r->fatal == 1,
         "error: GUST_E%s has a 0/1 fatal column", r->name);
    }
  }

  if (tap_group("error: gust_strerror")) {
    for (i = 0; i < NROWS; i++) {
      const char *m = gust_strerror(rows[i].value);
      ok(m != NULL && m[0] != '\0', "strerror: GUST_E%s has a message",
         rows[i].name);
      is_str(m, rows[i].msg, "strerror: GUST_E%s gives the table's message",
             rows[i].name);
      ok(m != NULL && strcmp(m, "unknown error") != 0,
         "strerror: GUST_E%s is not 'unknown error'", rows[i].name);
      ok(m != NULL && strcmp(m, "success") != 0,
         "strerror: GUST_E%s is not 'success'", rows[i].name);
    }
    is_str(gust_strerror(0), "success", "strerror: 0 is 'success'");
    is_str(gust_strerror(-998), "unknown error",
           "strerror: -998 (unassigned) is 'unknown error'");
    is_str(gust_strerror(-999), "unknown error",
           "strerror: -999 (range end, unassigned) is 'unknown error'");
    is_str(gust_strerror(-1000), "unknown error",
           "strerror: -1000 (outside the range) is 'unknown error'");
    is_str(gust_strerror(5), "unknown error",
           "strerror: positive 5 is 'unknown error'");
    is_str(gust_strerror(1), "unknown error",
           "strerror: positive 1 is 'unknown error'");
    is_str(gust_strerror(-26), "unknown error",
           "strerror: -26 (next general slot, unassigned) is 'unknown error'");
    is_str(gust_strerror(-462), "unknown error",
           "strerror: -462 (next web slot, unassigned) is 'unknown error'");
    is_str(gust_strerror(GUST_EMIN_), "unknown error",
           "strerror: the GUST_EMIN_ sentinel is 'unknown error'");
  }

  if (tap_group("error: gust_errname")) {
    for (i = 0; i < NROWS; i++) {
      char want[64];
      snprintf(want, sizeof(want), "GUST_E%s", rows[i].name);
      is_str(gust_errname(rows[i].value), want, "errname: %d gives %s",
             rows[i].value, want);
    }
    is_str(gust_errname(GUST_ENOMEM), "GUST_ENOMEM",
           "errname: GUST_ENOMEM spelled out");
    is_str(gust_errname(GUST_EEOF), "GUST_EEOF", "errname: GUST_EEOF");
    is_str(gust_errname(-998), "GUST_E?", "errname: -998 gives GUST_E?");
    is_str(gust_errname(5), "GUST_E?", "errname: 5 gives GUST_E?");
    is_str(gust_errname(0), "GUST_OK", "errname: 0 is GUST_OK (success)");
    is_str(gust_errname(-1000), "GUST_E?", "errname: -1000 gives GUST_E?");
  }

  if (tap_group("error: gust_is_fatal")) {
    int code, mismatches = 0, unknown_fatal = 0;
    for (i = 0; i < NROWS; i++)
      is_int(gust_is_fatal(rows[i].value), rows[i].fatal,
             "is_fatal: GUST_E%s agrees with the table (%d)", rows[i].name,
             rows[i].fatal);
    is_int(gust_is_fatal(0), 0, "is_fatal: 0 is not fatal");
    is_int(gust_is_fatal(1), 0, "is_fatal: 1 is not fatal");
    is_int(gust_is_fatal(5), 0, "is_fatal: 5 is not fatal");
    is_int(gust_is_fatal(-998), 0, "is_fatal: unknown -998 is not fatal");
    is_int(gust_is_fatal(-1000), 0, "is_fatal: -1000 is not fatal");
    is_int(gust_is_fatal(GUST_ENOMEM), 1, "is_fatal: GUST_ENOMEM is fatal");
    is_int(gust_is_fatal(GUST_EINVAL), 0, "is_fatal: GUST_EINVAL is not");
    is_int(gust_is_fatal(GUST_EAGAIN), 0, "is_fatal: GUST_EAGAIN is not");
    /* Sweep the whole range and some positives: every code outside the
     * table must behave as unknown. */
    for (code = -1100; code <= 100; code++) {
      if (in_table(code) || code == 0)
        continue;
      if (strcmp(gust_strerror(code), "unknown error") != 0 ||
          strcmp(gust_errname(code), "GUST_E?") != 0)
        mismatches++;
      if (gust_is_fatal(code) != 0)
        unknown_fatal++;
    }
    is_int(mismatches, 0,
           "error: every code in [-1100, 100] outside the table is unknown");
    is_int(unknown_fatal, 0,
           "error: no code in [-1100, 100] outside the table is fatal");
  }

  return done_testing();
}
