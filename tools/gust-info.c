/* gust-info: prints the library version and the backends this build of
 * gust was configured with, and checks that the crypto backend works. */
#include <gust/gust.h>

#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f, "usage: gust-info [--backends | --version | --help]\n"
             "  (no option)  version, backends and a crypto self-check\n"
             "  --backends   print \"LOOP TLS\" and exit\n"
             "  --version    print the library version and exit\n");
}

/* SHA-1 of "abc" from FIPS 180-2, as a known answer for the backend. */
static int crypto_selfcheck(void) {
  static const uint8_t want[20] = {0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81,
                                   0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50,
                                   0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d};
  uint8_t got[20];
  gust_slice in = gust_slice_cstr("abc");
  return gust_hash(GUST_SHA1, &in, 1, got) == 0 &&
         memcmp(got, want, sizeof(want)) == 0;
}

int main(int argc, char **argv) {
  if (argc > 2) {
    usage(stderr);
    return 2;
  }
  if (argc == 2) {
    if (strcmp(argv[1], "--backends") == 0) {
      printf("%s %s\n", gust_loop_backend_name(), gust_tls_backend_name());
      return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
      printf("%s\n", gust_version());
      return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
      usage(stdout);
      return 0;
    }
    usage(stderr);
    return 2;
  }
  printf("gust %s\n", gust_version());
  printf("  loop backend: %s %s\n", gust_loop_backend_name(),
         gust_loop_backend_version());
  printf("  TLS backend:  %s (%s)\n", gust_tls_backend_name(),
         gust_tls_backend_version());
  if (!crypto_selfcheck()) {
    printf("  crypto self-check: FAILED\n");
    return 1;
  }
  printf("  crypto self-check: ok (SHA-1 known answer)\n");
  return 0;
}
