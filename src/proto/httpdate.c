/* HTTP-dates (RFC 9110 section 5.6.7): IMF-fixdate output, and input in
 * the IMF-fixdate, RFC 850 and asctime forms. */
#include "config.h"

#include <gust/httputil.h>

#include <string.h>

#include "base/base_int.h"

static const char short_days[7][4] = {"Thu", "Fri", "Sat", "Sun",
                                      "Mon", "Tue", "Wed"};
static const char *const long_days[7] = {"Thursday", "Friday", "Saturday",
                                         "Sunday",   "Monday", "Tuesday",
                                         "Wednesday"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  int64_t era, doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* Writes `width` decimal digits of v (zero-padded) at *w. */
static void put_num(char **w, unsigned v, int width) {
  int i;
  for (i = width - 1; i >= 0; i--) {
    (*w)[i] = (char)('0' + v % 10);
    v /= 10;
  }
  *w += width;
}

#define MIN_TIME (-62167219200LL) /* 0000-01-01T00:00:00Z */
#define MAX_TIME (253402300799LL) /* 9999-12-31T23:59:59Z */

int gust_httpdate_format(int64_t t, char out[GUST_HTTPDATE_SIZE]) {
  int64_t days, secs, y;
  int m, d;
  if (out == NULL)
    return GUST_EINVAL;
  if (t < MIN_TIME || t > MAX_TIME)
    return GUST_ERANGE;
  days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  secs = t - days * 86400;
  civil_from_days(days, &y, &m, &d);
  {
    unsigned hh = (unsigned)(secs / 3600), mm = (unsigned)(secs / 60 % 60),
             ss = (unsigned)(secs % 60), yy = (unsigned)y;
    char *w = out;
    memcpy(w, short_days[((days % 7) + 7) % 7], 3);
    w += 3;
    *w++ = ',';
    *w++ = ' ';
    put_num(&w, (unsigned)d, 2);
    *w++ = ' ';
    memcpy(w, months[m - 1], 3);
    w += 3;
    *w++ = ' ';
    put_num(&w, yy, 4);
    *w++ = ' ';
    put_num(&w, hh, 2);
    *w++ = ':';
    put_num(&w, mm, 2);
    *w++ = ':';
    put_num(&w, ss, 2);
    memcpy(w, " GMT", 5);
  }
  return 0;
}

typedef struct cursor {
  const char *p;
  const char *end;
} cursor;

static int lit(cursor *c, const char *s) {
  size_t n = strlen(s);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
    return 0;
  c->p += n;
  return 1;
}

/* Reads exactly `n` digits (or, with n < 0, one or two digits). */
static int digits(cursor *c, int n, int *out) {
  int v = 0, i, want = n < 0 ? 2 : n;
  for (i = 0; i < want && c->p < c->end && *c->p >= '0' && *c->p <= '9'; i++)
    v = v * 10 + (*c->p++ - '0');
  if (i == 0 || (n >= 0 && i != n))
    return 0;
  *out = v;
  return 1;
}

static int month(cursor *c, int *m) {
  int i;
  for (i = 0; i < 12; i++)
    if (lit(c, months[i])) {
      *m = i + 1;
      return 1;
    }
  return 0;
}

static int hms(cursor *c, int *h, int *mi, int *s) {
  return digits(c, 2, h) && lit(c, ":") && digits(c, 2, mi) && lit(c, ":") &&
         digits(c, 2, s);
}

static int valid(int y, int m, int d, int h, int mi, int s) {
  static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || h > 23 || mi > 59 ||
      s > 60)
    return 0;
  if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
    return 0;
  return 1;
}

int gust_httpdate_parse(const char *str, size_t len, int64_t *t) {
  cursor c;
  int y = 0, m = 0, d = 0, h = 0, mi = 0, s = 0, i, parsed = 0;
  if ((str == NULL && len != 0) || t == NULL)
    return GUST_EINVAL;
  if (len == 0)
    return GUST_EHTTPDATE;
  c.p = str;
  c.end = str + len;
  while (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
    c.p++;
  while (c.end > c.p && (c.end[-1] == ' ' || c.end[-1] == '\t'))
    c.end--;
  for (i = 0; i < 7 && !parsed; i++) {
    cursor k = c;
    if (lit(&k, short_days[i])) {
      cursor a = k;
      if (lit(&a, ", ") && digits(&a, 2, &d) && lit(&a, " ") && month(&a, &m) &&
          lit(&a, " ") && digits(&a, 4, &y) && lit(&a, " ") &&
          hms(&a, &h, &mi, &s) && lit(&a, " GMT") && a.p == a.end) {
        parsed = 1;
        break;
      }
      a = k;
      /* asctime: "Sun Nov  6 08:49:37 1994" (day padded with a space). */
      if (lit(&a, " ") && month(&a, &m) && lit(&a, " ")) {
        if (!lit(&a, " ") && !(a.p < a.end && a.p[0] >= '1' && a.p[0] <= '3'))
          continue;
        if (digits(&a, -1, &d) && lit(&a, " ") && hms(&a, &h, &mi, &s) &&
            lit(&a, " ") && digits(&a, 4, &y) && a.p == a.end) {
          parsed = 1;
          break;
        }
      }
    }
    k = c;
    if (lit(&k, long_days[i]) && lit(&k, ", ") && digits(&k, 2, &d) &&
        lit(&k, "-") && month(&k, &m) && lit(&k, "-") && digits(&k, 2, &y) &&
        lit(&k, " ") && hms(&k, &h, &mi, &s) && lit(&k, " GMT") &&
        k.p == k.end) {
      y += y > 68 ? 1900 : 2000;
      parsed = 1;
      break;
    }
  }
  if (!parsed || !valid(y, m, d, h, mi, s))
    return GUST_EHTTPDATE;
  *t = days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + s;
  return 0;
}
