/* A minimal blocking krdma client (wire protocol version 1, libs/krdma/README.md): connects over
 * TCP (TCP_NODELAY), runs the HMAC-SHA256 challenge/response handshake, allocates slabs and
 * reads and writes them with one request in flight at a time. It answers the donor's heartbeat
 * pings while it waits for a reply. Any failure (refusal, error frame, protocol violation,
 * closed socket) ends the process with a message naming the cause. */
#ifndef UFFD_REF_KRDMA_CLIENT_H
#define UFFD_REF_KRDMA_CLIENT_H
#include <stddef.h>
#include <stdint.h>

struct krdma_client {
  int fd;
  uint32_t next_id;
  uint8_t *rbuf;         /* receive buffer: bytes [rstart, rhave) are not parsed yet */
  size_t rcap, rstart, rhave;
  unsigned long pongs;   /* heartbeat pings answered */
  unsigned long recvs;   /* recv calls */
};

/* Connects to host:port and authenticates as `name` with the shared secret. */
void krdma_connect(struct krdma_client *c, const char *host_port, const char *name, const uint8_t *secret, size_t secret_len);
/* Allocates a slab of size_bytes on the donor; returns its id. */
uint32_t krdma_alloc(struct krdma_client *c, uint64_t size_bytes);
/* Writes len bytes (at most 4 MiB) at offset of a slab and waits for the ack. */
void krdma_write(struct krdma_client *c, uint32_t slab, uint64_t offset, const void *data, uint32_t len);
/* Reads len bytes at offset of a slab into `into`. */
void krdma_read(struct krdma_client *c, uint32_t slab, uint64_t offset, void *into, uint32_t len);
/* Frees a slab. */
void krdma_free(struct krdma_client *c, uint32_t slab);
/* Closes the connection. */
void krdma_close(struct krdma_client *c);

#endif
