/** @packageDocumentation Distributed virtual storage (placeholder until the first slice lands). */
export const DVS_DEFAULT_SLAB_SIZE_BYTES = 64 * 1024 * 1024;
