import { check, libc } from './libc.js';

const CPU_SET_BYTES = 128; // glibc cpu_set_t: 1024 bits

/**
 * Pins the calling thread (main thread or worker) to the given CPUs with sched_setaffinity(0, ...).
 * Use it to study placement: on a VM a cross-CPU wake-up can cost tens of microseconds.
 */
export function pinCurrentThread(cpus: readonly number[]): void {
  const mask = Buffer.alloc(CPU_SET_BYTES);
  for (const cpu of cpus) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= CPU_SET_BYTES * 8) throw new RangeError(`cpu ${cpu} out of range 0..${CPU_SET_BYTES * 8 - 1}`);
    mask[cpu >> 3] |= 1 << (cpu & 7);
  }
  check(libc().sched_setaffinity(0, CPU_SET_BYTES, mask), 'sched_setaffinity', `cpus ${cpus.join(',')}`);
}

/** The CPUs the calling thread may run on (sched_getaffinity(0, ...)). */
export function currentThreadCpus(): number[] {
  const mask = Buffer.alloc(CPU_SET_BYTES);
  check(libc().sched_getaffinity(0, CPU_SET_BYTES, mask), 'sched_getaffinity');
  const cpus: number[] = [];
  for (let cpu = 0; cpu < CPU_SET_BYTES * 8; cpu++) if (mask[cpu >> 3] & (1 << (cpu & 7))) cpus.push(cpu);
  return cpus;
}

/** The CPU the calling thread runs on right now (sched_getcpu). */
export function currentCpu(): number {
  return check(libc().sched_getcpu(), 'sched_getcpu');
}
