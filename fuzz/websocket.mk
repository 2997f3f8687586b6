## Fuzz target for the WebSocket connection driver (fuzz/websocket*).
# Both roles against a raw local peer that sends the input: the server
# handler behind the HTTP server, and the client fed a computed 101 (or the
# raw input) and frames; echo, held messages, closes, pings, compression.
FUZZ_REPLAY_TESTS += fuzz/websocket-replay
fuzz_websocket_replay_SOURCES = fuzz/websocket.c fuzz/replay.c
EXTRA_DIST += fuzz/corpus/websocket fuzz/websocket.dict
if ENABLE_FUZZING
FUZZ_TARGETS += fuzz/websocket
fuzz_websocket_SOURCES = fuzz/websocket.c
fuzz_websocket_LDFLAGS = $(FUZZ_LINKFLAGS)
endif
