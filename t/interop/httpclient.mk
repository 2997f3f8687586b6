## Interop tests of the HTTP client against real peers over loopback,
## driven through tools/gust-fetch (t/interop/httpclient*): nginx (static
## files, gzip, redirects, keep-alive, a 1 GiB streamed download), a
## Tornado app (POST echo, uploads, auth, timeouts, reuse) and TLS
## servers (openssl s_server, gnutls-serv). Each skips without its peer,
## except under CI=true where it fails.
HTTPCLIENT_INTEROP_TESTS = t/interop/httpclient_nginx.sh \
	t/interop/httpclient_tornado.sh t/interop/httpclient_tls.sh
TESTS += $(HTTPCLIENT_INTEROP_TESTS)
EXTRA_DIST += $(HTTPCLIENT_INTEROP_TESTS) \
	t/interop/httpclient_tornado_server.py t/interop/httpclient_util.py \
	t/interop/httpclient_common.sh \
	scripts/deps/httpclient.list

# Fetches several URLs on one client, so that connection reuse shows.
check_PROGRAMS += t/interop/client_tool
t_interop_client_tool_SOURCES = t/interop/client_tool.c
