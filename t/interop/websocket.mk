## WebSocket conformance and interop tests against real peers
## (t/interop/ws_*).

# Interop of gust's WebSocket server (examples/wsecho) and client
# (t/interop/ws_tool) with python3-websockets, Tornado and node ws, with
# and without permessage-deflate. Skips without a peer, except under
# CI=true where it fails.
check_PROGRAMS += t/interop/ws_tool
t_interop_ws_tool_SOURCES = t/interop/ws_tool.c
TESTS += t/interop/ws_interop.sh
EXTRA_DIST += t/interop/ws_interop.sh t/interop/ws_peers.py \
	t/interop/ws_peers_node.js scripts/deps/websocket.list

# The conformance driver (Autobahn|Testsuite groups 1-7, 9, 10, 12, 13
# scaled down, and gust's group 0) against examples/wsecho.
TESTS += t/interop/ws_conformance.sh
EXTRA_DIST += t/interop/ws_conformance.sh t/interop/ws_conformance.py
