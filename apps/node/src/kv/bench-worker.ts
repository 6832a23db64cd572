// The load generator of `kv bench`, in a worker thread so it does not share the event loop with
// the server it measures (whose thread stops while a page fault is served). Drives the server
// with autocannon: keys drawn from a scrambled zipfian, GETs with a fraction of PUTs, bounded by
// duration. Latencies are recorded per response to the microsecond (autocannon's own histogram
// has a resolution of 1 ms, and in a worker thread it reports its raw, unaggregated result). Posts one BenchWorkerResult and exits.
import { parentPort, workerData } from 'node:worker_threads';
import { benchKey, benchValue } from './keys.js';
import { LatencyHistogramUs } from './latency-histogram.js';
import { ScrambledZipfian, seededRandom } from './zipf.js';

/** What the worker is asked to do. */
export interface BenchWorkerInput {
  url: string;
  connections: number;
  durationSec: number;
  keys: number;
  valueBytes: number;
  putFraction: number;
  theta: number;
  seed: number;
}

/** What it reports. */
export interface BenchWorkerResult {
  requests: number;
  durationSec: number;
  reqPerSec: number;
  latencyUs: { p50: number; p99: number; p999: number; mean: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  gets: number;
  puts: number;
}

async function run(input: BenchWorkerInput): Promise<BenchWorkerResult> {
  const { default: autocannon } = await import('autocannon');
  const chooser = new ScrambledZipfian(input.keys, input.theta, input.seed);
  const coin = seededRandom(input.seed ^ 0x5bd1e995);
  const paths = Array.from({ length: input.keys }, (_, i) => `/kv/${benchKey(i)}`);
  const putBody = Buffer.from(benchValue(0, input.valueBytes, 1));
  const empty = Buffer.alloc(0);
  const histogram = new LatencyHistogramUs();
  let gets = 0;
  let puts = 0;
  const result = await autocannon({
    url: input.url,
    connections: input.connections,
    duration: input.durationSec,
    timeout: 10,
    requests: [
      {
        // Fresh headers every time: autocannon writes Content-Length into the headers object it is
        // handed, and a shared one would carry a PUT's length into the GETs after it.
        setupRequest: (req) => {
          const path = paths[chooser.next()];
          if (coin() < input.putFraction) {
            puts++;
            return { ...req, headers: {}, method: 'PUT', path, body: putBody };
          }
          gets++;
          return { ...req, headers: {}, method: 'GET', path, body: empty };
        },
      },
    ],
    setupClient: (client) => {
      client.on('response', (_status: number, _bytes: number, responseTimeMs: number) => histogram.record(responseTimeMs * 1000));
    },
  });
  // In a worker thread autocannon returns its raw, unaggregated result (no `latency`, no
  // `requests.total`): read the fields both shapes share, or their raw names.
  const raw = result as unknown as { totalCompletedRequests?: number; requests?: { total?: number } };
  const requests = raw.requests?.total ?? raw.totalCompletedRequests ?? histogram.count;
  return {
    requests,
    durationSec: result.duration,
    reqPerSec: result.duration > 0 ? requests / result.duration : 0,
    latencyUs: { p50: histogram.quantile(0.5), p99: histogram.quantile(0.99), p999: histogram.quantile(0.999), mean: Math.round(histogram.meanUs), max: Math.round(histogram.maxUs) },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    gets,
    puts,
  };
}

// Report, then end this thread by itself (the parent terminates it only if it overruns).
run(workerData as BenchWorkerInput).then(
  (result) => {
    parentPort?.postMessage({ type: 'result', result });
    process.exit(0);
  },
  (error: Error) => {
    parentPort?.postMessage({ type: 'error', message: error?.stack ?? String(error) });
    process.exit(1);
  },
);
