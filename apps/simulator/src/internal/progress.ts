// A progress bar on the terminal (cli-progress), or nothing when the stream is not a terminal or
// --quiet was given. Updates are throttled by cli-progress and drawn synchronously, so a bar
// moves during a synchronous run too.

import cliProgress from 'cli-progress';

/** The bar's interface (a no-op when there is no terminal). */
export interface Progress {
  update(value: number, detail?: string): void;
  setTotal(total: number): void;
  stop(): void;
}

const NONE: Progress = { update: () => undefined, setTotal: () => undefined, stop: () => undefined };

/** A progress bar on `stream`, or a no-op when `stream` is undefined. */
export function createProgress(stream: NodeJS.WriteStream | undefined, label: string, total: number, unit: string): Progress {
  if (stream === undefined) return NONE;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {detail} | eta {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
      etaBuffer: 50,
      fps: 10,
      formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? String(Math.round(v)) : String(v)),
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { detail: '' });
  return {
    update: (value, detail) => bar.update(value, { detail: detail ?? '' }),
    setTotal: (t) => bar.setTotal(t),
    stop: () => bar.stop(),
  };
}
