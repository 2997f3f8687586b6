## TCP server and client module: TCPServer, TCPClient with happy eyeballs,
## multi-process mode (include/gust/tcp.h, src/net/tcp*.c, t/net/tcp*).
