/* ws_floor: the smallest WebSocket echo server this machine can run, the
 * "syscall floor" anchor of bench/ws_echo. One thread, epoll, blocking-free
 * sockets, one read and one write per round trip, no buffering beyond one
 * read: what is left is the kernel's cost of a loopback round trip. It is
 * only good for ws_load's traffic (client frames of any size that arrive
 * whole within one read are echoed, a close is answered), never for real
 * use. gust's library supplies only the handshake's accept value.
 *
 *   bench/ws_floor PORT */
#define _GNU_SOURCE
#include <gust/ws.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 65536

static unsigned char opened[MAX_FD]; /* 1 once the handshake is done */
static uint8_t in[1 << 20], out[(1 << 20) + 64];

static void drop(int ep, int fd) {
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  opened[fd] = 0;
}

/* Answers the upgrade request in `in` (assumed whole, as ws_load sends). */
static int handshake(int fd, size_t n) {
  char key[64] = "", accept[GUST_WS_ACCEPT_LEN + 1], resp[256];
  const char *k;
  int len;
  in[n] = 0;
  k = strstr((const char *)in, "Sec-WebSocket-Key:");
  if (k == NULL || sscanf(k + 18, " %60[^\r\n ]", key) != 1 ||
      gust_ws_accept_key(key, strlen(key), accept) != 0)
    return -1;
  len = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                 accept);
  return write(fd, resp, (size_t)len) == len ? 0 : -1;
}

/* Echoes the whole masked frames in in[0..n) unmasked; -1 to drop. */
static int echo(int fd, size_t n) {
  size_t off = 0, o = 0;
  while (off < n) {
    gust_ws_frame_header h;
    gust_ssize r = gust_ws_frame_parse(in + off, n - off, &h);
    if (r <= 0 || !h.masked || h.payload_len > n - off - (size_t)r ||
        h.payload_len > sizeof(out) - 64 - o)
      return -1; /* a frame split across reads: not for this anchor */
    o += gust_ws_frame_header_write(out + o, 1, 0, h.opcode, h.payload_len,
                                    NULL);
    gust_ws_mask_copy(out + o, in + off + r, (size_t)h.payload_len, h.mask, 0);
    o += (size_t)h.payload_len;
    off += (size_t)r + (size_t)h.payload_len;
    if (h.opcode == GUST_WS_OP_CLOSE) {
      if (write(fd, out, o) < 0)
        return -1;
      return -1; /* the close is echoed, then TCP goes */
    }
  }
  return write(fd, out, o) == (ssize_t)o ? 0 : -1;
}

int main(int argc, char **argv) {
  struct sockaddr_in a;
  struct epoll_event ev, evs[256];
  int lfd, ep, one = 1;
  if (argc != 2) {
    fprintf(stderr, "usage: ws_floor PORT\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)atoi(argv[1]));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(lfd, 1024) != 0) {
    perror("ws_floor: listen");
    return 1;
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  printf("listening on %s\n", argv[1]);
  fflush(stdout);
  for (;;) {
    int i, n = epoll_wait(ep, evs, 256, -1);
    for (i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      ssize_t r;
      if (fd == lfd) {
        int c;
        while ((c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
          if (c >= MAX_FD) {
            close(c);
            continue;
          }
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          ev.events = EPOLLIN;
          ev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
          opened[c] = 0;
          break; /* one per wakeup keeps accept4 from blocking */
        }
        continue;
      }
      r = read(fd, in, sizeof(in) - 1);
      if (r <= 0) {
        drop(ep, fd);
        continue;
      }
      if (!opened[fd]) {
        if (handshake(fd, (size_t)r) != 0) {
          drop(ep, fd);
          continue;
        }
        opened[fd] = 1;
      } else if (echo(fd, (size_t)r) != 0) {
        drop(ep, fd);
      }
    }
  }
}
