/* Internal entry points of the HTTP client for the WebSocket client (not
 * installed). */
#ifndef GUST_HTTP_HTTPCLIENT_INT_H
#define GUST_HTTP_HTTPCLIENT_INT_H

#include <gust/httpclient.h>
#include <gust/iostream.h>

/* gust_http_client_fetch() for a request that asks to switch protocols
 * (its headers carry Upgrade and Connection: Upgrade): redirects are not
 * followed and responses are not decompressed. A 101 ends the fetch with
 * the response, whose connection then leaves the client's pool: take it
 * with gust__fetch_response_take_upgrade(). Any other answer is a normal
 * response (with its body); failures are 599 responses as usual. */
int gust__http_client_upgrade(gust_http_client *cl, const gust_fetch_request *r,
                              gust_future **out);

/* Takes the switched connection of a 101 response: *stream gets the
 * stream (one reference, owned by the caller; no read pending, no close
 * callback) and *rest (an uninitialised buffer) the bytes read past the
 * head, in a buffer the caller frees. Returns 0, or GUST_ESTATE when the
 * response holds no such connection (nothing is changed). */
int gust__fetch_response_take_upgrade(gust_fetch_response *r,
                                      gust_iostream **stream, gust_buf *rest);

#endif /* GUST_HTTP_HTTPCLIENT_INT_H */
