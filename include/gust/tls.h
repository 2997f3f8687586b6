/* gust TLS: a Sans-IO TLS engine (ciphertext in, plaintext out and the
 * reverse) over the backend chosen at configure time (OpenSSL or GnuTLS).
 * It never touches a socket: the caller moves bytes between the engine and
 * the transport. */
#ifndef GUST_TLS_H
#define GUST_TLS_H

#include <gust/base.h>
#include <gust/crypto.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Contexts                                                             */
/* ------------------------------------------------------------------ */

/* A TLS context holds the configuration shared by many connections: role,
 * trusted CAs, own certificate and key, ALPN list, verification mode. It is
 * configured first, then used read-only by every engine created from it:
 * after the first gust_tls_new() the setters answer GUST_ESTATE.
 *
 * Safe defaults. Client: the peer certificate is verified against the
 * system CA store (or only against the CAs loaded with the gust_tls_ctx_
 * load_ca_* functions, once one is loaded), the host name given to
 * gust_tls_new() is checked against it (DNS names and IP literals) and sent
 * as SNI (DNS names only), TLS 1.2 is the lowest version, compression is
 * off. Server: no client certificate is requested, session resumption is on,
 * TLS 1.2 is the lowest version, compression is off. */
typedef struct gust_tls_ctx gust_tls_ctx;

/* Which side of the handshake a context or session plays. */
typedef enum gust_tls_role {
  GUST_TLS_CLIENT = 1,
  GUST_TLS_SERVER = 2
} gust_tls_role;

/* Client-certificate policy of a server context. */
typedef enum gust_tls_client_auth {
  GUST_TLS_CLIENT_AUTH_NONE = 0,     /* default: no certificate requested */
  GUST_TLS_CLIENT_AUTH_OPTIONAL = 1, /* requested; verified if one is sent */
  GUST_TLS_CLIENT_AUTH_REQUIRED = 2  /* requested and required, verified */
} gust_tls_client_auth;

/* Protocol versions, with their wire values. */
#define GUST_TLS_VERSION_1_2 0x0303
#define GUST_TLS_VERSION_1_3 0x0304

/* Creates a context for `role`, allocated with `mem` (NULL = default), in
 * *out. The caller owns it and releases it with gust_tls_ctx_free() once
 * every engine created from it is freed. Returns 0, GUST_EINVAL for an
 * unknown role, GUST_ENOMEM, or GUST_ECRYPTO if the backend fails. */
GUST_EXTERN int gust_tls_ctx_new(gust_tls_role role, const gust_mem *mem,
                                 gust_tls_ctx **out);

/* Releases a context (NULL is allowed). */
GUST_EXTERN void gust_tls_ctx_free(gust_tls_ctx *ctx);

/* Adds the CA certificates of a PEM file, a PEM block in memory, or an
 * OpenSSL-style hashed directory to the certificates trusted for verifying
 * the peer (the server's on a client, the client's on a server). Once one
 * CA is loaded, a client no longer uses the system store. The arguments are
 * only read during the call. Each returns 0, GUST_EINVAL, GUST_ESTATE (the
 * context is in use), GUST_ENOMEM, GUST_ENOTFOUND or GUST_EIO (a file or
 * directory that cannot be read), or GUST_ETLS_CONFIG when nothing usable
 * could be loaded (gust_tls_ctx_error() tells why). */
GUST_EXTERN int gust_tls_ctx_load_ca_file(gust_tls_ctx *ctx, const char *path);
GUST_EXTERN int gust_tls_ctx_load_ca_dir(gust_tls_ctx *ctx, const char *path);
GUST_EXTERN int gust_tls_ctx_load_ca_mem(gust_tls_ctx *ctx, const void *pem,
                                         size_t len);

/* Sets the context's own certificate chain (PEM: the leaf first, then its
 * intermediates) and the matching private key (PEM, unencrypted): required
 * on a server, optional on a client (a client certificate). A context holds
 * one certificate: once one is set, these return GUST_EEXIST. The files are
 * read, and the memory is only read, during the call. Returns 0, GUST_EINVAL,
 * GUST_ESTATE, GUST_EEXIST, GUST_ENOMEM, GUST_ENOTFOUND or GUST_EIO when a
 * file cannot be read, or GUST_ETLS_CONFIG when the certificate or key is
 * unusable or they do not match. */
GUST_EXTERN int gust_tls_ctx_use_cert_file(gust_tls_ctx *ctx,
                                           const char *cert_path,
                                           const char *key_path);
GUST_EXTERN int gust_tls_ctx_use_cert_mem(gust_tls_ctx *ctx,
                                          const void *cert_pem, size_t cert_len,
                                          const void *key_pem, size_t key_len);

/* Sets the ALPN protocol names: on a client, the list offered in that
 * order; on a server, the protocols it accepts in its own order of
 * preference (the first of them the client also offers is selected; when
 * none is common the handshake goes on without ALPN). `protos` holds `n`
 * NUL-terminated names of 1 to 255 bytes; they are copied. Returns 0,
 * GUST_EINVAL, GUST_ESTATE or GUST_ENOMEM. */
GUST_EXTERN int gust_tls_ctx_set_alpn(gust_tls_ctx *ctx,
                                      const char *const *protos, size_t n);

/* Server contexts: sets the client-certificate policy (default NONE). With
 * OPTIONAL or REQUIRED, load the CAs that issue client certificates with the
 * gust_tls_ctx_load_ca_* functions. Returns 0, GUST_EINVAL (bad value or a
 * client context) or GUST_ESTATE. */
GUST_EXTERN int gust_tls_ctx_set_client_auth(gust_tls_ctx *ctx,
                                             gust_tls_client_auth mode);

/* Sets the lowest protocol version accepted: GUST_TLS_VERSION_1_2 (default)
 * or GUST_TLS_VERSION_1_3. Lower versions cannot be enabled. Returns 0,
 * GUST_EINVAL or GUST_ESTATE. */
GUST_EXTERN int gust_tls_ctx_set_min_version(gust_tls_ctx *ctx, int version);

/* Turns session resumption on (default) or off. A server context issues
 * session tickets and keeps a session cache. A client context remembers
 * the last resumable session per host name given to gust_tls_new() (up to
 * 64 host names, the least recently stored dropped first; safe to share
 * between threads) and offers it on the next engine for that host, so a
 * reconnect skips the certificate exchange (gust_tls_session_resumed()
 * tells); TLS 1.3 sessions become resumable once the server's ticket has
 * been read. Returns 0, GUST_EINVAL or GUST_ESTATE. */
GUST_EXTERN int gust_tls_ctx_set_session_resumption(gust_tls_ctx *ctx, int on);

/* UNSAFE. Client contexts: with `on` non-zero, the server certificate is
 * neither verified nor matched against the host name, so anyone on the
 * path can read and change the traffic. Only for tests and for peers
 * authenticated by other means. Returns 0, GUST_EINVAL or GUST_ESTATE. */
GUST_EXTERN int gust_tls_ctx_set_insecure_skip_verify(gust_tls_ctx *ctx,
                                                      int on);

/* Returns the backend's message for the last failed call on the context
 * ("" if none). Valid until the next call on the context. Never NULL. */
GUST_EXTERN const char *gust_tls_ctx_error(const gust_tls_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Engine                                                               */
/* ------------------------------------------------------------------ */

/* One TLS connection as a state machine. Drive it like this:
 *   - bytes read from the transport: gust_tls_feed(); end of the transport
 *     stream: gust_tls_feed_eof();
 *   - then call gust_tls_handshake() until it returns 0, and afterwards
 *     gust_tls_read() for plaintext;
 *   - plaintext to send: gust_tls_write();
 *   - after each of these calls, send gust_tls_pending_output() to the
 *     transport and report what was sent with gust_tls_consume_output();
 *   - to close: gust_tls_shutdown() (sends close_notify), flush the output.
 * Errors are fatal unless the code says otherwise (gust_is_fatal()): after
 * one, every call answers with the same code and gust_tls_error_message()
 * holds the backend's explanation. Output already queued (such as the
 * alert explaining the failure) may still be sent. */
typedef struct gust_tls gust_tls;

/* Creates an engine from `ctx` in *out, allocated with `mem` (NULL =
 * default). `host` (may be NULL on a server; copied) is, on a client, the
 * name the server certificate must match and that is sent as SNI: a DNS
 * name or an IPv4/IPv6 literal (IP literals are matched against IP address
 * SANs and not sent as SNI). A verifying client requires it. The context
 * must outlive the engine. Returns 0, GUST_EINVAL, GUST_ENOMEM,
 * GUST_ETLS_CONFIG (the context cannot serve, e.g. a server without a
 * certificate) or GUST_ECRYPTO. */
GUST_EXTERN int gust_tls_new(gust_tls_ctx *ctx, const char *host,
                             const gust_mem *mem, gust_tls **out);

/* Releases an engine (NULL is allowed). */
GUST_EXTERN void gust_tls_free(gust_tls *tls);

/* Hands `len` bytes of ciphertext received from the transport to the
 * engine; they are copied. Returns 0, GUST_ESTATE after gust_tls_feed_eof(),
 * GUST_ENOMEM, or the engine's fatal error. */
GUST_EXTERN int gust_tls_feed(gust_tls *tls, const uint8_t *data, size_t len);

/* Tells the engine that the transport will deliver no more bytes. If the
 * peer's close_notify has not arrived by then, reading answers
 * GUST_ETLS_TRUNCATED once the buffered bytes are used up. Returns 0. */
GUST_EXTERN int gust_tls_feed_eof(gust_tls *tls);

/* Runs the handshake as far as the fed bytes allow (Tornado's
 * wait_for_handshake, without the waiting). Returns 0 once the handshake is
 * complete (also on later calls), GUST_EAGAIN when it needs more input
 * (send the pending output first), or a fatal code: GUST_ETLS_VERIFY,
 * GUST_ETLS_EXPIRED, GUST_ETLS_HOSTNAME, GUST_ETLS_NOCERT,
 * GUST_ETLS_VERSION, GUST_ETLS_ALERT, GUST_ETLS, GUST_ETLS_TRUNCATED (the
 * transport ended during the handshake), GUST_ENOMEM. */
GUST_EXTERN int gust_tls_handshake(gust_tls *tls);

/* Returns 1 once the handshake is complete, 0 otherwise. */
GUST_EXTERN int gust_tls_handshake_done(const gust_tls *tls);

/* Decrypts up to `cap` bytes of plaintext into `buf`, running the handshake
 * first if needed. Returns the number of bytes (> 0); 0 when the peer's
 * close_notify was received (a clean close; 0 again on later calls);
 * GUST_EAGAIN when more input is needed; GUST_ETLS_TRUNCATED when the
 * transport ended without close_notify; or a code as gust_tls_handshake()
 * (the peer may reject our certificate after our side of a TLS 1.3
 * handshake completes, and it then shows here as GUST_ETLS_ALERT). */
GUST_EXTERN gust_ssize gust_tls_read(gust_tls *tls, uint8_t *buf, size_t cap);

/* Encrypts all `len` bytes of plaintext into the pending output. Returns
 * `len`, GUST_EAGAIN while the handshake is not complete (it is advanced
 * first; retry once gust_tls_handshake() returns 0), GUST_ESTATE after
 * gust_tls_shutdown(), or a fatal code. */
GUST_EXTERN gust_ssize gust_tls_write(gust_tls *tls, const uint8_t *data,
                                      size_t len);

/* Returns the ciphertext waiting to be sent, as a view valid until the next
 * call on the engine. Empty when there is nothing to send. */
GUST_EXTERN gust_slice gust_tls_pending_output(const gust_tls *tls);

/* Marks the first `n` bytes of the pending output as sent. */
GUST_EXTERN void gust_tls_consume_output(gust_tls *tls, size_t n);

/* Queues close_notify (once; later calls do nothing). Writing is not
 * allowed afterwards; reading still is, until the peer's close_notify.
 * Returns 0, GUST_ESTATE before the handshake is complete (there is no
 * session to close yet: just drop the transport), or the engine's fatal
 * error. */
GUST_EXTERN int gust_tls_shutdown(gust_tls *tls);

/* Return 1 if our close_notify was queued / the peer's was received. */
GUST_EXTERN int gust_tls_close_notify_sent(const gust_tls *tls);
GUST_EXTERN int gust_tls_close_notify_received(const gust_tls *tls);

/* Returns the ALPN protocol agreed in the handshake, or NULL when none was.
 * Valid until the engine is freed. */
GUST_EXTERN const char *gust_tls_alpn(const gust_tls *tls);

/* Returns the negotiated version (GUST_TLS_VERSION_1_2 or _1_3), or 0
 * before the handshake completes. */
GUST_EXTERN int gust_tls_version(const gust_tls *tls);

/* Returns "TLSv1.2" or "TLSv1.3", or NULL before the handshake completes. */
GUST_EXTERN const char *gust_tls_version_name(const gust_tls *tls);

/* Returns the subject distinguished name of the peer's certificate in RFC
 * 4514 form (e.g. "CN=localhost,O=gust test"), or NULL when the peer sent
 * none or the handshake is not complete. Valid until the engine is freed. */
GUST_EXTERN const char *gust_tls_peer_subject(const gust_tls *tls);

/* Server engines: returns the host name the client asked for with SNI, or
 * NULL when it sent none (or before the handshake completes). Valid until
 * the engine is freed. Client engines: NULL. */
GUST_EXTERN const char *gust_tls_server_name(const gust_tls *tls);

/* Returns 1 if the peer's certificate was verified (chain and, on a client,
 * host name), 0 otherwise (none sent, or verification was turned off). */
GUST_EXTERN int gust_tls_peer_verified(const gust_tls *tls);

/* Returns 1 on a server engine if the client resumed an earlier session,
 * or on a client engine if its session was resumed; 0 otherwise. */
GUST_EXTERN int gust_tls_session_resumed(const gust_tls *tls);

/* Returns the engine's fatal error code, or 0 if none. */
GUST_EXTERN int gust_tls_error(const gust_tls *tls);

/* Returns the backend's message for the engine's error ("" if none), valid
 * until the engine is freed. Never NULL. */
GUST_EXTERN const char *gust_tls_error_message(const gust_tls *tls);

#ifdef __cplusplus
}
#endif

#endif /* GUST_TLS_H */
