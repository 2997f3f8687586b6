/* Helpers shared by the TLS test programs: test certificates generated at
 * run time with t/proto/mkcerts.sh, and file loading. */
#ifndef GUST_T_TLS_COMMON_H
#define GUST_T_TLS_COMMON_H

#include <gust/tls.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"

static char tc_dir[256];
static char tc_path_buf[8][512];
static int tc_path_next;

/* Returns "<cert dir>/<name>" (a rotating static buffer). */
static inline const char *tc_path(const char *name) {
  char *p = tc_path_buf[tc_path_next++ % 8];
  snprintf(p, 512, "%s/%s", tc_dir, name);
  return p;
}

/* Returns 1 if `prog` is found on PATH. */
static inline int tc_have_program(const char *prog) {
  char cmd[256];
  snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
  return system(cmd) == 0;
}

/* Generates the certificates into a fresh temporary directory; skips (or,
 * under CI, fails) the program when the openssl tool is missing. */
static inline void tc_make_certs(void) {
  const char *top = getenv("top_srcdir"), *tmp;
  char cmd[1024];
  if (top == NULL || top[0] == '\0')
    top = GUST_TOP_SRCDIR;
  if (!tc_have_program("openssl"))
    plan_skip_all("the openssl command-line tool is not installed");
  tmp = getenv("TMPDIR");
  snprintf(tc_dir, sizeof(tc_dir), "%s/gust-tls-XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  if (mkdtemp(tc_dir) == NULL)
    bail_out("cannot create a temporary directory");
  snprintf(cmd, sizeof(cmd), "sh '%s/t/proto/mkcerts.sh' '%s'", top, tc_dir);
  if (system(cmd) != 0)
    bail_out("t/proto/mkcerts.sh failed");
}

/* Removes the directory, unless a check failed: then its logs stay. */
static inline void tc_remove_certs(void) {
  char cmd[512];
  if (tc_dir[0] == '\0')
    return;
  if (tap_failures() > 0) {
    diag("certificates and peer logs kept in %s", tc_dir);
    return;
  }
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tc_dir);
  if (system(cmd) != 0)
    diag("could not remove %s", tc_dir);
}

/* Reads a whole file into a malloc'ed block (test code), or bails out. */
static inline char *tc_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *data = NULL;
  size_t cap = 0, n = 0;
  if (f == NULL)
    bail_out("cannot open %s", path);
  for (;;) {
    size_t got;
    if (n == cap) {
      char *p = realloc(data, cap = cap ? cap * 2 : 4096);
      if (p == NULL)
        bail_out("out of memory");
      data = p;
    }
    got = fread(data + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  fclose(f);
  *len = n;
  return data;
}

/* A client context trusting the test CA (or `ca`), offering `alpn`. */
static inline gust_tls_ctx *tc_client_ctx(const char *ca, const char *cert,
                                          const char *const *alpn,
                                          size_t nalpn) {
  gust_tls_ctx *ctx = NULL;
  if (gust_tls_ctx_new(GUST_TLS_CLIENT, NULL, &ctx) != 0)
    bail_out("client context");
  if (ca != NULL && gust_tls_ctx_load_ca_file(ctx, tc_path(ca)) != 0)
    bail_out("load CA %s: %s", ca, gust_tls_ctx_error(ctx));
  if (cert != NULL) {
    char c[64], k[64];
    snprintf(c, sizeof(c), "%s.pem", cert);
    snprintf(k, sizeof(k), "%s.key", cert);
    if (gust_tls_ctx_use_cert_file(ctx, tc_path(c), tc_path(k)) != 0)
      bail_out("client cert: %s", gust_tls_ctx_error(ctx));
  }
  if (nalpn > 0 && gust_tls_ctx_set_alpn(ctx, alpn, nalpn) != 0)
    bail_out("client ALPN");
  return ctx;
}

/* A server context with certificate `cert` (basename of .pem/.key). */
static inline gust_tls_ctx *tc_server_ctx(const char *cert,
                                          gust_tls_client_auth auth,
                                          const char *const *alpn,
                                          size_t nalpn) {
  gust_tls_ctx *ctx = NULL;
  char c[64], k[64];
  if (gust_tls_ctx_new(GUST_TLS_SERVER, NULL, &ctx) != 0)
    bail_out("server context");
  snprintf(c, sizeof(c), "%s.pem", cert);
  snprintf(k, sizeof(k), "%s.key", cert);
  if (gust_tls_ctx_use_cert_file(ctx, tc_path(c), tc_path(k)) != 0)
    bail_out("server cert: %s", gust_tls_ctx_error(ctx));
  if (auth != GUST_TLS_CLIENT_AUTH_NONE) {
    if (gust_tls_ctx_load_ca_file(ctx, tc_path("ca.pem")) != 0 ||
        gust_tls_ctx_set_client_auth(ctx, auth) != 0)
      bail_out("server client auth");
  }
  if (nalpn > 0 && gust_tls_ctx_set_alpn(ctx, alpn, nalpn) != 0)
    bail_out("server ALPN");
  return ctx;
}

#endif /* GUST_T_TLS_COMMON_H */
