/*
 * uffd-ref: the C reference userfaultfd handler, the floor the TypeScript pager is measured
 * against (DESIGN.md §5, native.md §3.1). A handler pthread polls the uffd (plus a stop
 * eventfd), reads up to 16 messages, and resolves each page fault with UFFDIO_COPY from local
 * memory (EEXIST -> UFFDIO_WAKE). The main thread times each first touch of N pages and prints
 * one JSON line.
 *
 * usage: uffd-ref <pages> <placement: free|pinned> [cpu]
 *   pinned: both threads are pinned to <cpu> (default 0) with sched_setaffinity.
 * Built at bench time (gcc -O2 -pthread); no binary is committed.
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

#define PAGE 4096UL
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

static int uffd, stopfd, pinned, cpu;
static char *region, *source;
static size_t pages;
static unsigned long copies, wakes;

static void die(const char *what) { fprintf(stderr, "uffd-ref: %s: %s\n", what, strerror(errno)); exit(1); }

static void pin_self(void) {
  if (!pinned) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set)) die("sched_setaffinity");
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
        struct uffdio_copy c = {.dst = addr, .src = (unsigned long)(source + (addr - (unsigned long)region)), .len = PAGE, .mode = 0};
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
  if (argc < 3) { fprintf(stderr, "usage: uffd-ref <pages> <free|pinned> [cpu]\n"); return 2; }
  pages = strtoul(argv[1], NULL, 10);
  pinned = strcmp(argv[2], "pinned") == 0;
  cpu = argc > 3 ? atoi(argv[3]) : 0;
  pin_self();
  size_t len = pages * PAGE;
  region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  source = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED || source == MAP_FAILED) die("mmap");
  madvise(region, len, MADV_NOHUGEPAGE);
  for (size_t p = 0; p < pages; p++) memset(source + p * PAGE, (int)(p & 255), PAGE);
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
  qsort(lat, pages, sizeof *lat, cmp);
  printf("{\"pages\":%zu,\"placement\":\"%s\",\"medianUs\":%.2f,\"p99Us\":%.2f,\"copies\":%lu,\"wakes\":%lu,\"wrongBytes\":%zu}\n",
         pages, pinned ? "pinned" : "free", lat[pages / 2], lat[(size_t)(pages * 0.99)], copies, wakes, bad);
  return bad ? 1 : 0;
}
