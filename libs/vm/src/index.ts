/** @packageDocumentation The paging engine (placeholder until the first slice lands). */
export { DVS_DEFAULT_SLAB_SIZE_BYTES } from '@rackmem/dvs';
