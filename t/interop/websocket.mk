## WebSocket conformance and interop tests against real peers
## (t/interop/ws_*).
