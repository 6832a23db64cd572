import { COMMAND_NAMES, type PagingEngine } from '../index.js';

/** A drained command, for assertions. */
export interface Recorded {
  kind: string;
  page: number;
  frame: number;
  arg: number;
}

/** Drains the engine's queue into plain records (completions are the test's job). */
export function drainRecorded(engine: PagingEngine): Recorded[] {
  const out: Recorded[] = [];
  const q = engine.commands;
  while (q.next()) out.push({ kind: COMMAND_NAMES[q.kind], page: q.page, frame: q.frame, arg: q.arg });
  return out;
}

/** Just the `kind:page` strings, compact for expectations. */
export function kinds(records: Recorded[]): string[] {
  return records.map((r) => (r.kind === 'writeback' ? `writeback#${r.arg}` : `${r.kind}:${r.page}`));
}
