/* gust umbrella header: includes every public header of libgust and
 * libgust-proto. */
#ifndef GUST_GUST_H
#define GUST_GUST_H

#include <gust/version.h>
#include <gust/base.h>
#include <gust/headers.h>
#include <gust/http1.h>
#include <gust/gzip.h>
#include <gust/crypto.h>
#include <gust/tls.h>
#include <gust/ws.h>
#include <gust/loop.h>
#include <gust/future.h>
#include <gust/locks.h>
#include <gust/queues.h>
#include <gust/executor.h>
#include <gust/cookie.h>
#include <gust/httputil.h>
#include <gust/iostream.h>
#include <gust/tcp.h>
#include <gust/httpserver.h>
#include <gust/httpclient.h>
#include <gust/websocket.h>
#include <gust/web.h>

#endif /* GUST_GUST_H */
