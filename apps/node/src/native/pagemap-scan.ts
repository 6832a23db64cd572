import { lastError } from './errors.js';
import { close, libc, open } from './libc.js';
import { PAGE_SIZE_BYTES } from './constants.js';
import { RegionMemory } from './region-memory.js';
import { putU64 } from './u64.js';

/** `PAGEMAP_SCAN` = _IOWR('f', 16, struct pm_scan_arg): 96-byte argument (Linux 6.7). */
const PAGEMAP_SCAN = 0xc0606610;
const PM_SCAN_ARG_BYTES = 96;
/** Category bit: the page has no uffd-wp bit (written since it was write-protected). */
const PAGE_IS_WRITTEN = 1 << 1;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const ENOTTY = 25;
const EINVAL = 22;

/**
 * Which pages were written since userfaultfd write-protected them, read from the page tables with
 * the `PAGEMAP_SCAN` ioctl on `/proc/self/pagemap`. With a uffd in WP_ASYNC mode the kernel lets
 * a write to a write-protected page through by itself (no message) and clears the PTE's uffd-wp
 * bit; the scan reports such pages as written. Read-only: it never changes protection. A page that
 * is not present reads as not written. One object per thread (its argument buffer is reused).
 */
export class PagemapScanner {
  private readonly arg = Buffer.alloc(PM_SCAN_ARG_BYTES);
  /** Where the kernel writes the `struct page_region` it finds (its address goes in the argument). */
  private readonly vec = RegionMemory.map(PAGE_SIZE_BYTES);
  private closed = false;

  private constructor(private readonly fd: number) {
    putU64(this.arg, 0, PM_SCAN_ARG_BYTES); // size
    putU64(this.arg, 8, 0); // flags: report only
    putU64(this.arg, 40, this.vec.address); // vec: room for one region is all a yes/no needs
    putU64(this.arg, 48, 1); // vec_len
    putU64(this.arg, 56, 0); // max_pages: no limit
    putU64(this.arg, 64, 0); // category_inverted
    putU64(this.arg, 72, PAGE_IS_WRITTEN); // category_mask: written pages only
    putU64(this.arg, 80, 0); // category_anyof_mask
    putU64(this.arg, 88, PAGE_IS_WRITTEN); // return_mask
  }

  /**
   * Opens the scanner, or returns null when it cannot work here: no PAGEMAP_SCAN in this kernel
   * (before 6.7: ENOTTY or EINVAL), or no readable /proc/self/pagemap. `unavailableReason` says which.
   */
  static open(): PagemapScanner | null {
    let fd: number;
    try {
      fd = open('/proc/self/pagemap', O_RDONLY | O_CLOEXEC);
    } catch (err) {
      PagemapScanner.unavailableReason = `/proc/self/pagemap cannot be opened: ${(err as Error).message}`;
      return null;
    }
    const scanner = new PagemapScanner(fd);
    try {
      scanner.writtenPages(0, 1); // an empty range of the address space: 0 regions where supported
      return scanner;
    } catch (err) {
      scanner.close();
      const errno = (err as { errno?: number }).errno;
      PagemapScanner.unavailableReason = errno === ENOTTY || errno === EINVAL
        ? 'this kernel has no PAGEMAP_SCAN ioctl (Linux 6.7 or newer has it)'
        : `PAGEMAP_SCAN failed: ${(err as Error).message}`;
      return null;
    }
  }

  /** Why the last `open()` returned null. */
  static unavailableReason = '';

  /**
   * Whether any of `pages` pages from `address` (page-aligned) was written since it was
   * write-protected. One ioctl; about 1 µs for one page.
   */
  writtenPages(address: number, pages: number): boolean {
    const arg = this.arg;
    putU64(arg, 16, address);
    putU64(arg, 24, address + pages * PAGE_SIZE_BYTES);
    const found = libc().ioctlBuf(this.fd, PAGEMAP_SCAN, arg);
    if (found < 0) throw lastError('PAGEMAP_SCAN', `${pages} pages at 0x${address.toString(16)}`);
    return found > 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    close(this.fd);
    this.vec.unmap();
  }
}
