/* Replays a WebSocket fuzz target's seed corpus as a TAP test, so that
 * `make check` runs every seed (also under valgrind) without libFuzzer.
 * The corpus directory is compiled in as GUST_FUZZ_CORPUS. */
#include "ws_fuzz.h"

#include "../t/tap.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
  const char *dir = GUST_FUZZ_CORPUS;
  DIR *d = opendir(dir);
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0, i;

  if (d == NULL)
    bail_out("cannot open corpus %s", dir);
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      names = (char **)realloc(names, cap * sizeof *names);
      if (names == NULL)
        bail_out("out of memory");
    }
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, by_name);
  for (i = 0; i < n; i++) {
    char path[4096];
    FILE *f;
    uint8_t *buf;
    long len = 0;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0)
      bail_out("cannot read %s", path);
    rewind(f);
    buf = (uint8_t *)malloc(len ? (size_t)len : 1);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len)
      bail_out("cannot read %s", path);
    fclose(f);
    /* a target aborts on a broken invariant, which fails the program */
    ok(LLVMFuzzerTestOneInput(buf, (size_t)len) == 0, "replay: %s", names[i]);
    free(buf);
    free(names[i]);
  }
  free(names);
  ok(n > 0, "replay: corpus is not empty");
  return done_testing();
}
