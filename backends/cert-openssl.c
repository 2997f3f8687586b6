/* Throwaway certificates for the testing helpers, generated with OpenSSL:
 * an EC P-256 key and a self-signed X.509 v3 certificate. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../src/testing/testing_int.h"

/* Writes the first queued OpenSSL error (or `what`) into `err`, empties
 * the error queue, and returns the code to report. */
static int fail(char *err, size_t err_len, const char *what) {
  unsigned long e = ERR_peek_error();
  int rc = e != 0 && ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE ? GUST_ENOMEM
                                                               : GUST_ECRYPTO;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    snprintf(err, err_len, "%s: %s", what, buf);
  } else {
    snprintf(err, err_len, "%s failed", what);
  }
  ERR_clear_error();
  return rc;
}

static EVP_PKEY *make_key(void) {
  EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
  EVP_PKEY *key = NULL;
  if (kc == NULL)
    return NULL;
  if (EVP_PKEY_keygen_init(kc) != 1 ||
      EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kc, NID_X9_62_prime256v1) != 1 ||
      EVP_PKEY_keygen(kc, &key) != 1)
    key = NULL;
  EVP_PKEY_CTX_free(kc);
  return key;
}

/* Adds one general name of `type` holding `len` bytes to `names`. */
static int add_name(GENERAL_NAMES *names, int type, const void *data,
                    size_t len) {
  GENERAL_NAME *g = GENERAL_NAME_new();
  ASN1_STRING *s =
      type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();
  if (g == NULL || s == NULL || len > INT_MAX ||
      ASN1_STRING_set(s, data, (int)len) != 1) {
    GENERAL_NAME_free(g);
    ASN1_STRING_free(s);
    return -1;
  }
  GENERAL_NAME_set0_value(g, type, s);
  if (sk_GENERAL_NAME_push(names, g) == 0) {
    GENERAL_NAME_free(g);
    return -1;
  }
  return 0;
}

static int add_extensions(X509 *x, const gust__cert_spec *sp) {
  GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
  BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
  int ok = names != NULL && bc != NULL;
  size_t i;
  for (i = 0; ok && i < sp->n_dns; i++)
    ok = add_name(names, GEN_DNS, sp->dns[i], strlen(sp->dns[i])) == 0;
  for (i = 0; ok && i < sp->n_ips; i++)
    ok = add_name(names, GEN_IPADD, sp->ips[i], sp->ip_lens[i]) == 0;
  ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, 0) == 1;
  /* An end-entity certificate: the client trusts exactly this one. */
  if (ok)
    bc->ca = 0;
  ok = ok && X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, 0) == 1;
  GENERAL_NAMES_free(names);
  BASIC_CONSTRAINTS_free(bc);
  return ok ? 0 : -1;
}

static int set_fields(X509 *x, EVP_PKEY *key, const gust__cert_spec *sp) {
  BIGNUM *bn = BN_bin2bn(sp->serial, (int)sizeof(sp->serial), NULL);
  ASN1_INTEGER *serial = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
  X509_NAME *name = X509_get_subject_name(x);
  int ok = serial != NULL && X509_set_version(x, 2) == 1 &&
           X509_set_serialNumber(x, serial) == 1 &&
           ASN1_TIME_set(X509_getm_notBefore(x), sp->not_before) != NULL &&
           ASN1_TIME_set(X509_getm_notAfter(x), sp->not_after) != NULL &&
           X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                      (const unsigned char *)sp->common_name,
                                      -1, -1, 0) == 1 &&
           X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                      (const unsigned char *)sp->organization,
                                      -1, -1, 0) == 1 &&
           X509_set_issuer_name(x, name) == 1 && X509_set_pubkey(x, key) == 1;
  ASN1_INTEGER_free(serial);
  BN_free(bn);
  return ok ? 0 : -1;
}

/* Appends the contents of a memory BIO to `out`. */
static int take_bio(BIO *b, gust_buf *out) {
  char *p = NULL;
  long n = BIO_get_mem_data(b, &p);
  if (n <= 0 || p == NULL)
    return GUST_ECRYPTO;
  return gust_buf_append(out, p, (size_t)n);
}

static int ossl_self_signed(const gust__cert_spec *sp, gust_buf *cert,
                            gust_buf *key_out, char *err, size_t err_len) {
  EVP_PKEY *key = NULL;
  X509 *x = NULL;
  BIO *b = NULL;
  int rc = 0;
  ERR_clear_error();
  key = make_key();
  if (key == NULL) {
    rc = fail(err, err_len, "EC P-256 key generation");
    goto out;
  }
  x = X509_new();
  if (x == NULL || set_fields(x, key, sp) != 0 || add_extensions(x, sp) != 0) {
    rc = fail(err, err_len, "certificate fields");
    goto out;
  }
  if (X509_sign(x, key, EVP_sha256()) <= 0) {
    rc = fail(err, err_len, "certificate signature");
    goto out;
  }
  b = BIO_new(BIO_s_mem());
  if (b == NULL || PEM_write_bio_X509(b, x) != 1) {
    rc = fail(err, err_len, "PEM encoding of the certificate");
    goto out;
  }
  rc = take_bio(b, cert);
  if (rc < 0)
    goto out;
  BIO_free(b);
  b = BIO_new(BIO_s_mem());
  if (b == NULL ||
      PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1) {
    rc = fail(err, err_len, "PEM encoding of the key");
    goto out;
  }
  rc = take_bio(b, key_out);
out:
  BIO_free(b);
  X509_free(x);
  EVP_PKEY_free(key);
  return rc;
}

const gust__cert_vtable gust__cert_backend = {
    .name = "openssl",
    .self_signed = ossl_self_signed,
};
