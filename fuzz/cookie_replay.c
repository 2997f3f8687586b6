/* Replays a fuzz target's seed corpus (fuzz/corpus/NAME/) plus every
 * prefix of each file as TAP checks, so that make check (and valgrind)
 * exercise the fuzz targets without libFuzzer. NAME comes from the
 * FUZZ_NAME macro; the corpus is found under $top_srcdir. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../t/tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(void) {
  const char *top = getenv("top_srcdir");
  char dir[4096], path[8192];
  char *names[1024];
  size_t count = 0, i;
  DIR *d;
  struct dirent *ent;
  snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", top != NULL ? top : ".",
           FUZZ_NAME);
  d = opendir(dir);
  if (!ok(d != NULL, "%s: corpus directory %s readable", FUZZ_NAME, dir))
    return done_testing();
  while ((ent = readdir(d)) != NULL && count < 1024)
    if (ent->d_name[0] != '.')
      names[count++] = strdup(ent->d_name);
  closedir(d);
  qsort(names, count, sizeof(names[0]), by_name);
  ok(count > 0, "%s: corpus has %zu seeds", FUZZ_NAME, count);
  for (i = 0; i < count; i++) {
    FILE *f;
    uint8_t *buf;
    long n;
    size_t got, k;
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
      ok(0, "%s: seed %s readable", FUZZ_NAME, names[i]);
      if (f != NULL)
        fclose(f);
      free(names[i]);
      continue;
    }
    buf = malloc((size_t)n + 1);
    got = buf != NULL ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    if (buf == NULL || got != (size_t)n) {
      ok(0, "%s: seed %s read", FUZZ_NAME, names[i]);
      free(buf);
      free(names[i]);
      continue;
    }
    /* Every prefix, each placed right before an unreadable page. */
    for (k = 0; k <= got; k++) {
      uint8_t *g = tap_guard_copy(buf, k);
      if (g == NULL)
        bail_out("tap_guard_copy failed");
      LLVMFuzzerTestOneInput(g, k);
      tap_guard_free(g, k);
    }
    ok(1, "%s: seed %s and its %zu prefixes ran", FUZZ_NAME, names[i], got);
    free(buf);
    free(names[i]);
  }
  return done_testing();
}
