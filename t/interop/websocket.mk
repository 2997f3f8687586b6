## WebSocket conformance and interop tests against real peers
## (t/interop/ws_*).

# The conformance driver (Autobahn|Testsuite groups 1-7, 9, 10, 12, 13
# scaled down, and gust's group 0) against examples/wsecho.
TESTS += t/interop/ws_conformance.sh
EXTRA_DIST += t/interop/ws_conformance.sh t/interop/ws_conformance.py
