import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { IBV_CONTEXT_OPS_OFFSETS, IBV_OBJECT_SIZES, LAYOUT_TABLE } from './abi.js';
import { koffiOffsetOf, verbsTypes } from './structs.js';

function which(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('verbs struct layouts', () => {
  const { structs } = verbsTypes();

  it('declares exactly the structs of the checked-in table', () => {
    expect(Object.keys(structs).sort()).toEqual(Object.keys(LAYOUT_TABLE).sort());
  });

  for (const [name, layout] of Object.entries(LAYOUT_TABLE)) {
    it(`koffi's ${name} matches the table (size ${layout.sizeBytes})`, () => {
      const type = structs[name];
      expect(koffi.sizeof(type)).toBe(layout.sizeBytes);
      for (const [path, offset] of Object.entries(layout.offsets)) expect(koffiOffsetOf(type, path), `${name}.${path}`).toBe(offset);
    });
  }

  it('ops-table offsets and object sizes agree with the table', () => {
    const ctx = LAYOUT_TABLE.ibv_context.offsets;
    expect(IBV_CONTEXT_OPS_OFFSETS).toEqual({ pollCq: ctx['ops.poll_cq'], reqNotifyCq: ctx['ops.req_notify_cq'], postSend: ctx['ops.post_send'], postRecv: ctx['ops.post_recv'] });
    expect(IBV_OBJECT_SIZES).toEqual({ context: LAYOUT_TABLE.ibv_context.sizeBytes, qp: LAYOUT_TABLE.ibv_qp.sizeBytes, cq: LAYOUT_TABLE.ibv_cq.sizeBytes });
  });

  const header = '/usr/include/infiniband/verbs.h';
  const canCompile = which('gcc') && existsSync(header);
  if (!canCompile) console.log(`[krdma verbs] skipping the C layout regeneration: needs gcc and ${header} (libibverbs-dev)`);

  it.skipIf(!canCompile)('the C compiler, from the real headers, gives the same table', () => {
    const lines: string[] = [];
    for (const [name, layout] of Object.entries(LAYOUT_TABLE)) {
      const cType = name === 'ibv_gid' ? 'union ibv_gid' : `struct ${name}`;
      const fields = Object.keys(layout.offsets).map((path) => `printf("\\"%s\\":%zu,", "${path}", offsetof(${cType}, ${path}));`);
      lines.push(`printf("\\"${name}\\":{\\"sizeBytes\\":%zu,\\"offsets\\":{", sizeof(${cType})); ${fields.join(' ')} printf("\\"_\\":0}},");`);
    }
    const source = `#include <stddef.h>\n#include <stdio.h>\n#include <infiniband/verbs.h>\nint main(void) {\n printf("{");\n ${lines.join('\n ')}\n printf("\\"_\\":0}\\n");\n return 0;\n}\n`;
    const dir = mkdtempSync(join(tmpdir(), 'rackmem-verbs-layout-'));
    try {
      writeFileSync(join(dir, 'layout.c'), source);
      execFileSync('gcc', ['-O0', '-o', join(dir, 'layout'), join(dir, 'layout.c')], { stdio: 'pipe' });
      const measured = JSON.parse(execFileSync(join(dir, 'layout'), { encoding: 'utf8' })) as Record<string, { sizeBytes: number; offsets: Record<string, number> }>;
      for (const [name, layout] of Object.entries(LAYOUT_TABLE)) {
        const { _: _sentinel, ...offsets } = measured[name].offsets;
        expect({ name, sizeBytes: measured[name].sizeBytes, offsets }).toEqual({ name, sizeBytes: layout.sizeBytes, offsets: layout.offsets });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
