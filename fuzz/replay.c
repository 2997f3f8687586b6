/* Replays a fuzz target's corpus as a TAP test: every file under
 * $top_srcdir/fuzz/corpus/<target>/ (or the files and directories named on
 * the command line) is fed to LLVMFuzzerTestOneInput, whole and (for small
 * files) cut at every length. A crash, a
 * sanitizer report or a hang (GUST_TEST_TIMEOUT) fails the test. The target
 * name is this program's name without its "-replay" suffix. */
#include "../t/tap.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs up to this size are also replayed cut at every length. */
#define PREFIX_LIMIT 4096

/* Names a corpus file from "fuzz/corpus/" on, whatever the build dir. */
static const char *display_name(const char *path) {
  const char *p = strstr(path, "fuzz/corpus/");
  return p != NULL ? p : path;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *data = NULL, *copy;
  size_t len = 0, cap = 0, n;
  if (f == NULL) {
    ok(0, "read %s: %s", path, strerror(errno));
    return;
  }
  for (;;) {
    if (len == cap) {
      uint8_t *p;
      cap = cap != 0 ? cap * 2 : 4096;
      p = realloc(data, cap);
      if (p == NULL)
        bail_out("out of memory reading %s", path);
      data = p;
    }
    n = fread(data + len, 1, cap - len, f);
    len += n;
    if (n == 0)
      break;
  }
  fclose(f);
  /* The input ends right before an unreadable page, as under libFuzzer
   * with ASan: an over-read crashes here too. */
  copy = tap_guard_copy(data, len);
  if (copy == NULL)
    bail_out("cannot map a guard page");
  LLVMFuzzerTestOneInput(copy, len);
  tap_guard_free(copy, len);
  /* Every prefix of a small input too: truncated input is where parsers
   * go wrong, and each prefix again ends right before the guard page. */
  if (len <= PREFIX_LIMIT) {
    size_t k;
    for (k = 0; k < len; k++) {
      copy = tap_guard_copy(data, k);
      if (copy == NULL)
        bail_out("cannot map a guard page");
      LLVMFuzzerTestOneInput(copy, k);
      tap_guard_free(copy, k);
    }
  }
  free(data);
  ok(1, "replayed %s (%zu bytes%s)", display_name(path), len,
     len <= PREFIX_LIMIT ? " and every prefix" : "");
}

static void replay_path(const char *path) {
  struct stat st;
  DIR *d;
  struct dirent *e;
  char **names = NULL;
  size_t count = 0, cap = 0, i;
  if (stat(path, &st) != 0) {
    ok(0, "corpus %s exists: %s", path, strerror(errno));
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    replay_file(path);
    return;
  }
  d = opendir(path);
  if (d == NULL) {
    ok(0, "open corpus %s: %s", path, strerror(errno));
    return;
  }
  while ((e = readdir(d)) != NULL) {
    char *full;
    if (e->d_name[0] == '.')
      continue;
    if (count == cap) {
      char **p;
      cap = cap != 0 ? cap * 2 : 64;
      p = realloc(names, cap * sizeof(*names));
      if (p == NULL)
        bail_out("out of memory listing %s", path);
      names = p;
    }
    full = malloc(strlen(path) + strlen(e->d_name) + 2);
    if (full == NULL)
      bail_out("out of memory listing %s", path);
    sprintf(full, "%s/%s", path, e->d_name);
    names[count++] = full;
  }
  closedir(d);
  /* A fixed order makes a failing input easy to find again. */
  qsort(names, count, sizeof(*names), compare_names);
  for (i = 0; i < count; i++) {
    replay_path(names[i]);
    free(names[i]);
  }
  free(names);
}

int main(int argc, char **argv) {
  int i;
  if (argc > 1) {
    for (i = 1; i < argc; i++)
      replay_path(argv[i]);
  } else {
    const char *top = getenv("top_srcdir");
    const char *base = strrchr(argv[0], '/');
    char target[256], dir[4096];
    size_t n;
    base = base != NULL ? base + 1 : argv[0];
    /* libtool may prefix "lt-" to the real binary's name. */
    if (strncmp(base, "lt-", 3) == 0)
      base += 3;
    n = strlen(base);
    if (n > 7 && strcmp(base + n - 7, "-replay") == 0)
      n -= 7;
    if (n >= sizeof(target))
      bail_out("program name too long");
    memcpy(target, base, n);
    target[n] = '\0';
    snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", top != NULL ? top : ".",
             target);
    replay_path(dir);
  }
  return done_testing();
}
