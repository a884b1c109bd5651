// A TCP relay in front of a server we must not stop (GreenMail serves every other test):
// `down()` closes the listening port and cuts open connections, so clients see
// ECONNREFUSED as from a dead server; `up()` listens on the same port again.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(host: string, port: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  let server: net.Server | undefined;
  let listenPort = 0;

  const listen = async () => {
    const s = net.createServer((client) => {
      track(client);
      const upstream = net.connect(port, host);
      track(upstream);
      // A reset on either side ends the pair; the client sees a dropped connection.
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(listenPort, '127.0.0.1', () => resolve());
    });
    listenPort = (s.address() as net.AddressInfo).port;
    server = s;
  };
  const down = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  return {
    port: listenPort,
    down,
    up: async () => {
      if (!server) await listen();
    },
    close: down,
  };
}
