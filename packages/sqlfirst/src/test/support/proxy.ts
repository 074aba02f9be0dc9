/**
 * A network that stalls, for tests: a TCP proxy on 127.0.0.1 that forwards to a port until
 * it stalls, then forwards nothing more either way and leaves the sockets open and unread,
 * as a dead NAT or a hung load balancer does.
 */
import net from 'node:net';

export interface StallingProxy {
  port: number;
  /** from now on nothing is forwarded, either way */
  stall(): void;
  close(): Promise<void>;
}

export interface StallOptions {
  /** stall by itself once the client sends a message containing this text (that message is forwarded) */
  stallOn?: string;
  /** all: connections made after the stall stall too (the server is unreachable); open: only those already open (one flow died) */
  scope?: 'all' | 'open';
}

/** A proxy to `port` on 127.0.0.1; without a port, a server that accepts and never answers. */
export function startProxy(port?: number, options: StallOptions = {}): Promise<StallingProxy> {
  const { stallOn, scope = 'all' } = options;
  const sockets = new Set<net.Socket>();
  const cut = new Set<net.Socket>();
  let stalled = false;
  const keep = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  };
  const stall = () => {
    stalled = true;
    for (const socket of sockets) cut.add(socket.pause());
  };
  const listener = net.createServer({ allowHalfOpen: true }, (client) => {
    keep(client);
    if (port === undefined) return;
    if (stalled && scope === 'all') {
      cut.add(client.pause());
      return;
    }
    const upstream = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    keep(upstream);
    client.on('data', (chunk: Buffer) => {
      if (cut.has(client)) return;
      upstream.write(chunk);
      if (stallOn !== undefined && !stalled && chunk.includes(stallOn)) stall();
    });
    upstream.on('data', (chunk: Buffer) => cut.has(upstream) || client.write(chunk));
    // a close is forwarded only while the flow works: a stalled network delivers nothing
    client.on('close', () => cut.has(client) || upstream.destroy());
    upstream.on('close', () => cut.has(upstream) || client.destroy());
  });
  return new Promise((resolve, reject) => {
    listener.on('error', reject);
    listener.listen(0, '127.0.0.1', () =>
      resolve({
        port: (listener.address() as net.AddressInfo).port,
        stall,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            listener.close(() => done());
          }),
      }),
    );
  });
}
