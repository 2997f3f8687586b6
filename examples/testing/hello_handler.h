/* The handler tested in doc/testing.md: a tiny HTTP API. */
#ifndef HELLO_HANDLER_H
#define HELLO_HANDLER_H

#include <gust/httpserver.h>

/* A gust_http_request_cb:
 *   GET /hello?name=NAME  200 "Hello, NAME!" (NAME defaults to "world")
 *   POST /reverse         200 with the request body reversed
 *   anything else         404 "not found" */
void hello_handler(gust_http_request *req, void *user_data);

#endif /* HELLO_HANDLER_H */
