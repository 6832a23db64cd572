/*
 * uffd-ref: the C reference userfaultfd handler, the floor the TypeScript pager is measured
 * against (DESIGN.md §5, native.md §3.1). A handler pthread polls the uffd (plus a stop
 * eventfd), reads up to 16 messages, and resolves each page fault with UFFDIO_COPY from local
 * memory (EEXIST -> UFFDIO_WAKE). The main thread times each first touch of N pages and prints
 * one JSON line.
 *
 * Remote mode: the pages live on a krdma donor instead (the same donor process the TypeScript
 * pager fetches from). Setup allocates 16 MiB slabs on it and writes every page's contents; then
 * the handler serves each fault by reading the page from the donor over one blocking TCP
 * connection (TCP_NODELAY, the real krdma protocol with the HMAC handshake: krdma-client.c) into
 * a staging page and UFFDIO_COPY from it.
 *
 * usage: uffd-ref <pages> <placement: free|pinned> [cpu] [remote <host:port>]
 *   pinned: both threads are pinned to <cpu> (default 0) with sched_setaffinity.
 *   remote: the cluster secret is read (hex) from the environment variable UFFD_REF_SECRET_HEX.
 * Built at bench time (gcc -O2 -pthread uffd-ref.c krdma-client.c sha256.c); no binary is
 * committed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "krdma-client.h"

#define PAGE 4096UL
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

#define SLAB_BYTES (16UL << 20)
#define PAGES_PER_SLAB (SLAB_BYTES / PAGE)
#define FILL_CHUNK_BYTES (1UL << 20)

static int uffd, stopfd, pinned, cpu;
static char *region, *source; /* source: the local copy (local mode) */
static size_t pages;
static unsigned long copies, wakes;
static struct krdma_client donor; /* remote mode */
static int remote;
static uint32_t *slabs;
static char *staging;

static void die(const char *what) { fprintf(stderr, "uffd-ref: %s: %s\n", what, strerror(errno)); exit(1); }

static void pin_self(void) {
  if (!pinned) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set)) die("sched_setaffinity");
}

/* Contents of page p: every byte p & 255, except bytes 8..15 hold p (little-endian), so a page
 * from a wrong offset is caught even when it has the same low byte. */
static void fill_page(char *at, size_t p) {
  memset(at, (int)(p & 255), PAGE);
  for (int i = 0; i < 8; i++) at[8 + i] = (char)(p >> (8 * i));
}

static int parse_secret(const char *hex, uint8_t *out, size_t cap) {
  size_t n = strlen(hex);
  if (n % 2 || n / 2 > cap) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return (int)(n / 2);
}

/* Connects to the donor, allocates the slabs and writes every page's contents to them. */
static void remote_setup(const char *address) {
  const char *hex = getenv("UFFD_REF_SECRET_HEX");
  uint8_t secret[256];
  int secret_len = hex ? parse_secret(hex, secret, sizeof secret) : -1;
  if (secret_len < 16) { fprintf(stderr, "uffd-ref: set UFFD_REF_SECRET_HEX to the cluster secret (hex, at least 16 bytes)\n"); exit(2); }
  char name[64];
  snprintf(name, sizeof name, "uffd-ref-%d", (int)getpid());
  krdma_connect(&donor, address, name, secret, (size_t)secret_len);
  size_t nslabs = (pages + PAGES_PER_SLAB - 1) / PAGES_PER_SLAB;
  slabs = malloc(nslabs * sizeof *slabs);
  char *chunk = malloc(FILL_CHUNK_BYTES);
  staging = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (!slabs || !chunk || staging == MAP_FAILED) die("alloc");
  for (size_t s = 0; s < nslabs; s++) slabs[s] = krdma_alloc(&donor, SLAB_BYTES);
  for (size_t p = 0; p < pages;) {
    size_t n = 0, first = p;
    while (p < pages && n < FILL_CHUNK_BYTES / PAGE && (p % PAGES_PER_SLAB != 0 || n == 0)) fill_page(chunk + n++ * PAGE, p++);
    krdma_write(&donor, slabs[first / PAGES_PER_SLAB], (first % PAGES_PER_SLAB) * PAGE, chunk, (uint32_t)(n * PAGE));
  }
  free(chunk);
}

static void remote_teardown(void) {
  size_t nslabs = (pages + PAGES_PER_SLAB - 1) / PAGES_PER_SLAB;
  for (size_t s = 0; s < nslabs; s++) krdma_free(&donor, slabs[s]);
  krdma_close(&donor);
}

static int open_uffd(void) {
  int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
  if (dev >= 0) {
    int fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
    close(dev);
    if (fd >= 0) return fd;
  }
  return (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
}

static void *handler(void *arg) {
  (void)arg;
  pin_self();
  struct uffd_msg msgs[16];
  struct pollfd fds[2] = {{.fd = uffd, .events = POLLIN}, {.fd = stopfd, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) { if (errno == EINTR) continue; die("poll"); }
    if (fds[1].revents) return NULL;
    for (;;) {
      ssize_t n = read(uffd, msgs, sizeof msgs);
      if (n < 0) { if (errno == EAGAIN) break; die("read"); }
      for (size_t i = 0; i < (size_t)n / sizeof msgs[0]; i++) {
        if (msgs[i].event != UFFD_EVENT_PAGEFAULT) continue;
        unsigned long addr = msgs[i].arg.pagefault.address & ~(PAGE - 1);
        size_t p = (addr - (unsigned long)region) / PAGE;
        char *from = source + p * PAGE;
        if (remote) {
          krdma_read(&donor, slabs[p / PAGES_PER_SLAB], (p % PAGES_PER_SLAB) * PAGE, staging, (uint32_t)PAGE);
          from = staging;
        }
        struct uffdio_copy c = {.dst = addr, .src = (unsigned long)from, .len = PAGE, .mode = 0};
        if (ioctl(uffd, UFFDIO_COPY, &c)) {
          if (errno != EEXIST) die("UFFDIO_COPY");
          struct uffdio_range r = {.start = addr, .len = PAGE};
          if (ioctl(uffd, UFFDIO_WAKE, &r)) die("UFFDIO_WAKE");
          wakes++;
        } else copies++;
      }
    }
  }
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  const char *usage = "usage: uffd-ref <pages> <free|pinned> [cpu] [remote <host:port>] (remote: secret hex in UFFD_REF_SECRET_HEX)\n";
  if (argc < 3 || argc == 5 || argc > 6 || (argc == 6 && strcmp(argv[4], "remote") != 0)) { fputs(usage, stderr); return 2; }
  pages = strtoul(argv[1], NULL, 10);
  if (pages == 0) { fputs(usage, stderr); return 2; }
  pinned = strcmp(argv[2], "pinned") == 0;
  cpu = argc > 3 ? atoi(argv[3]) : 0;
  remote = argc == 6;
  pin_self();
  size_t len = pages * PAGE;
  region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (region == MAP_FAILED) die("mmap");
  madvise(region, len, MADV_NOHUGEPAGE);
  if (remote) {
    remote_setup(argv[5]);
  } else {
    source = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (source == MAP_FAILED) die("mmap");
    for (size_t p = 0; p < pages; p++) fill_page(source + p * PAGE, p);
  }
  uffd = open_uffd();
  if (uffd < 0) die("userfaultfd (run as root, or allow it: see README)");
  struct uffdio_api api = {.api = UFFD_API, .features = 0};
  if (ioctl(uffd, UFFDIO_API, &api)) die("UFFDIO_API");
  struct uffdio_register reg = {.range = {.start = (unsigned long)region, .len = len}, .mode = UFFDIO_REGISTER_MODE_MISSING};
  if (ioctl(uffd, UFFDIO_REGISTER, &reg)) die("UFFDIO_REGISTER");
  stopfd = eventfd(0, EFD_CLOEXEC);
  pthread_t t;
  if (pthread_create(&t, NULL, handler, NULL)) die("pthread_create");

  double *lat = malloc(pages * sizeof *lat);
  size_t bad = 0;
  for (size_t p = 0; p < pages; p++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    unsigned char v = *(volatile unsigned char *)(region + p * PAGE);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (v != (unsigned char)(p & 255)) bad++;
    lat[p] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
  }
  uint64_t one = 1;
  if (write(stopfd, &one, sizeof one) != sizeof one) die("write(eventfd)");
  pthread_join(t, NULL);
  struct uffdio_range r = {.start = (unsigned long)region, .len = len};
  ioctl(uffd, UFFDIO_UNREGISTER, &r);
  close(uffd);
  /* Untimed: every byte of every page against its expected contents. */
  char *expect = malloc(PAGE);
  if (!expect) die("malloc");
  for (size_t p = 0; p < pages; p++) {
    fill_page(expect, p);
    if (memcmp(region + p * PAGE, expect, PAGE) != 0 && (unsigned char)region[p * PAGE] == (unsigned char)(p & 255)) bad++;
  }
  if (remote) remote_teardown();
  qsort(lat, pages, sizeof *lat, cmp);
  printf("{\"mode\":\"%s\",\"pages\":%zu,\"placement\":\"%s\",\"medianUs\":%.2f,\"p99Us\":%.2f,\"copies\":%lu,\"wakes\":%lu,\"wrongBytes\":%zu",
         remote ? "remote" : "local", pages, pinned ? "pinned" : "free", lat[pages / 2], lat[(size_t)(pages * 0.99)], copies, wakes, bad);
  if (remote) printf(",\"server\":\"%s\",\"recvsPerFault\":%.2f,\"pongs\":%lu", argv[5], copies ? (double)donor.recvs / (double)copies : 0.0, donor.pongs);
  printf("}\n");
  return bad ? 1 : 0;
}
