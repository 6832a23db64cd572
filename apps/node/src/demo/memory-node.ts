// A memory node for the local-rack demo: a krdma TCP donor on 127.0.0.1.
// Usage: memory-node.ts <name> <secretHex> <capacityBytes>; prints `ready <port>`; SIGTERM stops it.
import { TcpFabric } from '@rackmem/krdma';

const [name, secretHex, capacity] = process.argv.slice(2);
if (!name || !secretHex || !capacity) {
  process.stderr.write('usage: memory-node <name> <secretHex> <capacityBytes>\n');
  process.exit(2);
}
const fabric = new TcpFabric({ nodeName: name, secret: Buffer.from(secretHex, 'hex'), donor: { capacityBytes: Number(capacity) }, reconnect: false });
const address = await fabric.listen(0, '127.0.0.1');
process.stdout.write(`ready ${address.port}\n`);
const stop = (): void => void fabric.close('stopped').then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
