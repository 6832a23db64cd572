/* SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 2104), self-contained so the reference needs no
 * crypto library; used only for the krdma handshake proofs. */
#ifndef UFFD_REF_SHA256_H
#define UFFD_REF_SHA256_H
#include <stddef.h>
#include <stdint.h>

struct sha256 {
  uint32_t h[8];
  uint64_t bytes;
  uint8_t block[64];
  size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[32]);

/* One piece of an HMAC message. */
struct hmac_part {
  const void *data;
  size_t len;
};

/* HMAC-SHA256(key, parts[0] || parts[1] || ...). */
void hmac_sha256(const uint8_t *key, size_t key_len, const struct hmac_part *parts, size_t count, uint8_t out[32]);

#endif
