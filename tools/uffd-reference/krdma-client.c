/* A minimal blocking krdma client. See krdma-client.h and libs/krdma/README.md (wire protocol
 * version 1: 16-byte little-endian header "KR", version, type, flags, reserved, request id,
 * payload length). */
#define _GNU_SOURCE
#include "krdma-client.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sha256.h"

enum {
  HEADER = 16, NONCE = 32, PROOF = 32,
  T_HELLO = 0x01, T_CHALLENGE = 0x02, T_RESPONSE = 0x03, T_AUTH_OK = 0x04,
  T_ALLOC = 0x10, T_ALLOC_REPLY = 0x11, T_FREE = 0x12, T_FREE_ACK = 0x13,
  T_READ = 0x14, T_READ_REPLY = 0x15, T_WRITE = 0x16, T_WRITE_ACK = 0x17,
  T_PING = 0x20, T_PONG = 0x21, T_ERROR = 0x3f,
};
#define RECV_BUFFER_BYTES (256u * 1024u)

static void fail(const char *fmt, const char *detail) {
  fprintf(stderr, "uffd-ref: krdma: ");
  fprintf(stderr, fmt, detail);
  fputc('\n', stderr);
  exit(1);
}

static void put_u32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put_u64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t get_u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static uint32_t fnv1a(const char *s) {
  uint32_t h = 0x811c9dc5u;
  for (; *s; s++) { h ^= (uint8_t)*s; h *= 0x01000193u; }
  return h;
}

static void header(uint8_t *h, uint8_t type, uint32_t id, uint32_t payload) {
  h[0] = 'K'; h[1] = 'R'; h[2] = 1; h[3] = type;
  h[4] = h[5] = h[6] = h[7] = 0;
  put_u32(h + 8, id);
  put_u32(h + 12, payload);
}

/* Sends a frame: header, fixed fields, optional data, with one sendmsg (looping on short sends). */
static void send_frame(struct krdma_client *c, uint8_t type, uint32_t id, const void *fields, size_t fields_len, const void *data, size_t data_len) {
  uint8_t h[HEADER];
  header(h, type, id, (uint32_t)(fields_len + data_len));
  struct iovec iov[3] = {{h, HEADER}, {(void *)fields, fields_len}, {(void *)data, data_len}};
  struct iovec *v = iov;
  int n = 3;
  while (n > 0) {
    struct msghdr m = {.msg_iov = v, .msg_iovlen = (size_t)n};
    ssize_t sent = sendmsg(c->fd, &m, MSG_NOSIGNAL);
    if (sent < 0) { if (errno == EINTR) continue; fail("send: %s", strerror(errno)); }
    while (n > 0 && (size_t)sent >= v->iov_len) { sent -= (ssize_t)v->iov_len; v++; n--; }
    if (n > 0) { v->iov_base = (uint8_t *)v->iov_base + sent; v->iov_len -= (size_t)sent; }
  }
}

struct frame {
  uint8_t type;
  uint32_t id;
  const uint8_t *payload; /* valid until the next receive */
  uint32_t len;
};

/* Receives the next whole frame (as many recv calls as it takes). */
static void next_frame(struct krdma_client *c, struct frame *f) {
  for (;;) {
    size_t have = c->rhave - c->rstart;
    if (have >= HEADER) {
      const uint8_t *h = c->rbuf + c->rstart;
      if (h[0] != 'K' || h[1] != 'R' || h[2] != 1) fail("%s", "the donor sent a frame with a bad magic or version");
      uint32_t len = get_u32(h + 12);
      if (len > c->rcap - HEADER) fail("%s", "the donor sent a frame larger than the receive buffer");
      if (have >= HEADER + (size_t)len) {
        f->type = h[3];
        f->id = get_u32(h + 8);
        f->payload = h + HEADER;
        f->len = len;
        c->rstart += HEADER + len;
        return;
      }
      if (c->rstart + HEADER + len > c->rcap) { memmove(c->rbuf, c->rbuf + c->rstart, have); c->rstart = 0; c->rhave = have; }
    } else if (c->rstart > 0) {
      memmove(c->rbuf, c->rbuf + c->rstart, have);
      c->rstart = 0;
      c->rhave = have;
    }
    ssize_t got = recv(c->fd, c->rbuf + c->rhave, c->rcap - c->rhave, 0);
    c->recvs++;
    if (got < 0) { if (errno == EINTR) continue; fail("recv: %s", strerror(errno)); }
    if (got == 0) fail("%s", "the donor closed the connection");
    c->rhave += (size_t)got;
  }
}

static void fail_error_frame(const struct frame *f) {
  char reason[300];
  size_t n = f->len >= 3 ? f->payload[2] : 0;
  if (n > f->len - 3) n = f->len - 3;
  unsigned code = f->len >= 2 ? (unsigned)(f->payload[0] | f->payload[1] << 8) : 0;
  snprintf(reason, sizeof reason, "error code %u: %.*s", code, (int)n, (const char *)f->payload + 3);
  fail("the donor refused: %s", reason);
}

/* Waits for the reply to request `id` of `type` (answering pings meanwhile). */
static void await_reply(struct krdma_client *c, uint32_t id, uint8_t type, struct frame *f) {
  for (;;) {
    next_frame(c, f);
    if (f->type == T_PING && f->len == 8) { send_frame(c, T_PONG, f->id, f->payload, 8, NULL, 0); c->pongs++; continue; }
    if (f->type == T_ERROR && (f->id == id || f->id == 0)) fail_error_frame(f);
    if (f->id != id || f->type != type) fail("%s", "the donor sent an unexpected frame");
    return;
  }
}

static void authenticate(struct krdma_client *c, const char *name, const uint8_t *secret, size_t secret_len) {
  size_t name_len = strlen(name);
  if (name_len < 1 || name_len > 64) fail("%s", "the node name must be 1..64 bytes");
  uint8_t hello[4 + NONCE + 1 + 64], nonce[NONCE];
  if (getrandom(nonce, NONCE, 0) != NONCE) fail("getrandom: %s", strerror(errno));
  put_u32(hello, fnv1a(name));
  memcpy(hello + 4, nonce, NONCE);
  hello[4 + NONCE] = (uint8_t)name_len;
  memcpy(hello + 5 + NONCE, name, name_len);
  send_frame(c, T_HELLO, 0, hello, 5 + NONCE + name_len, NULL, 0);

  struct frame f;
  next_frame(c, &f);
  if (f.type == T_ERROR) fail_error_frame(&f);
  if (f.type != T_CHALLENGE || f.len < 4 + NONCE + PROOF + 1) fail("%s", "expected an auth-challenge");
  const uint8_t *server_nonce = f.payload + 4, *server_proof = f.payload + 4 + NONCE;
  uint8_t server_name_len = f.payload[4 + NONCE + PROOF];
  if (f.len != 5u + NONCE + PROOF + server_name_len) fail("%s", "the auth-challenge has a bad length");
  char server_name[256];
  memcpy(server_name, f.payload + 5 + NONCE + PROOF, server_name_len);
  server_name[server_name_len] = 0;
  if (get_u32(f.payload) != fnv1a(server_name)) fail("server \"%s\" sent a node hash that is not the hash of its name", server_name);
  uint8_t client_len = (uint8_t)name_len, expect[PROOF], proof[PROOF], copy_of_server_proof[PROOF], copy_of_server_nonce[NONCE];
  memcpy(copy_of_server_proof, server_proof, PROOF);
  memcpy(copy_of_server_nonce, server_nonce, NONCE);
  static const char server_label[] = "rackmem/krdma/v1 server proof", client_label[] = "rackmem/krdma/v1 client proof";
  struct hmac_part parts[7] = {
      {server_label, sizeof server_label - 1}, {nonce, NONCE}, {copy_of_server_nonce, NONCE},
      {&client_len, 1}, {name, name_len}, {&server_name_len, 1}, {server_name, server_name_len},
  };
  hmac_sha256(secret, secret_len, parts, 7, expect);
  uint8_t diff = 0;
  for (int i = 0; i < PROOF; i++) diff |= (uint8_t)(expect[i] ^ copy_of_server_proof[i]);
  if (diff) fail("server \"%s\" does not know the cluster secret (its proof did not verify); check the secret", server_name);
  parts[0] = (struct hmac_part){client_label, sizeof client_label - 1};
  hmac_sha256(secret, secret_len, parts, 7, proof);
  send_frame(c, T_RESPONSE, 0, proof, PROOF, NULL, 0);
  next_frame(c, &f);
  if (f.type == T_ERROR) fail_error_frame(&f);
  if (f.type != T_AUTH_OK) fail("%s", "expected auth-ok");
}

void krdma_connect(struct krdma_client *c, const char *host_port, const char *name, const uint8_t *secret, size_t secret_len) {
  char host[256];
  const char *colon = strrchr(host_port, ':');
  if (!colon || (size_t)(colon - host_port) >= sizeof host) fail("bad address \"%s\" (want host:port)", host_port);
  memcpy(host, host_port, (size_t)(colon - host_port));
  host[colon - host_port] = 0;
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
  int rc = getaddrinfo(host, colon + 1, &hints, &res);
  if (rc) fail("getaddrinfo: %s", gai_strerror(rc));
  c->fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0) fail("socket: %s", strerror(errno));
  if (connect(c->fd, res->ai_addr, res->ai_addrlen)) fail("connect: %s", strerror(errno));
  freeaddrinfo(res);
  int one = 1;
  if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one)) fail("TCP_NODELAY: %s", strerror(errno));
  c->rcap = RECV_BUFFER_BYTES;
  c->rbuf = malloc(c->rcap);
  if (!c->rbuf) fail("%s", "out of memory");
  c->rstart = c->rhave = 0;
  c->next_id = 1;
  c->pongs = c->recvs = 0;
  authenticate(c, name, secret, secret_len);
}

uint32_t krdma_alloc(struct krdma_client *c, uint64_t size_bytes) {
  uint8_t fields[8];
  put_u64(fields, size_bytes);
  uint32_t id = c->next_id++;
  send_frame(c, T_ALLOC, id, fields, 8, NULL, 0);
  struct frame f;
  await_reply(c, id, T_ALLOC_REPLY, &f);
  if (f.len != 24) fail("%s", "alloc-reply has a bad length");
  return get_u32(f.payload);
}

void krdma_write(struct krdma_client *c, uint32_t slab, uint64_t offset, const void *data, uint32_t len) {
  uint8_t fields[12];
  put_u32(fields, slab);
  put_u64(fields + 4, offset);
  uint32_t id = c->next_id++;
  send_frame(c, T_WRITE, id, fields, 12, data, len);
  struct frame f;
  await_reply(c, id, T_WRITE_ACK, &f);
}

void krdma_read(struct krdma_client *c, uint32_t slab, uint64_t offset, void *into, uint32_t len) {
  uint8_t fields[16];
  put_u32(fields, slab);
  put_u64(fields + 4, offset);
  put_u32(fields + 12, len);
  uint32_t id = c->next_id++;
  send_frame(c, T_READ, id, fields, 16, NULL, 0);
  struct frame f;
  await_reply(c, id, T_READ_REPLY, &f);
  if (f.len != len) fail("%s", "read-reply has a bad length");
  memcpy(into, f.payload, len);
}

void krdma_free(struct krdma_client *c, uint32_t slab) {
  uint8_t fields[4];
  put_u32(fields, slab);
  uint32_t id = c->next_id++;
  send_frame(c, T_FREE, id, fields, 4, NULL, 0);
  struct frame f;
  await_reply(c, id, T_FREE_ACK, &f);
}

void krdma_close(struct krdma_client *c) {
  close(c->fd);
  free(c->rbuf);
  c->fd = -1;
  c->rbuf = NULL;
}
