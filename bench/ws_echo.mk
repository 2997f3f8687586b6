## WebSocket echo benchmark against node ws and Tornado (bench/ws_echo*).
