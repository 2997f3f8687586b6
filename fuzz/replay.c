/* Corpus replay runner: feeds every file of fuzz/corpus/<target>/ to the
 * target's LLVMFuzzerTestOneInput and reports one TAP line per file. Built
 * in every configuration so that `make check` runs the corpus even without
 * libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  const char *top = getenv("top_srcdir");
  char dir[4096], path[8192];
  char *names[4096];
  size_t n = 0, count, i;
  int fail = 0;
  DIR *d;
  struct dirent *e;
  if (argc > 1)
    snprintf(dir, sizeof(dir), "%s", argv[1]);
  else
    snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", top ? top : ".",
             FUZZ_TARGET);
  d = opendir(dir);
  if (d == NULL) {
    printf("not ok 1 - corpus directory %s readable\n1..1\n", dir);
    return 1;
  }
  while ((e = readdir(d)) != NULL && n < sizeof(names) / sizeof(names[0]))
    if (e->d_name[0] != '.')
      names[n++] = strdup(e->d_name);
  closedir(d);
  count = n;
  qsort(names, n, sizeof(names[0]), by_name);
  for (i = 0; i < n; i++) {
    FILE *f;
    uint8_t *buf;
    long len;
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0) {
      printf("not ok %zu - %s: readable\n", i + 1, names[i]);
      fail = 1;
      if (f != NULL)
        fclose(f);
      continue;
    }
    rewind(f);
    buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
      printf("not ok %zu - %s: readable\n", i + 1, names[i]);
      fail = 1;
    } else {
      /* a broken invariant aborts the program, which fails the test */
      LLVMFuzzerTestOneInput(buf, (size_t)len);
      printf("ok %zu - %s %s replays cleanly\n", i + 1, FUZZ_TARGET, names[i]);
    }
    free(buf);
    fclose(f);
  }
  if (n == 0) {
    printf("not ok 1 - corpus %s is not empty\n", dir);
    n = 1;
    fail = 1;
  }
  printf("1..%zu\n", n);
  for (i = 0; i < count; i++)
    free(names[i]);
  return fail;
}
