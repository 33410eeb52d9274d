import net from "node:net";

export const DEFAULT_PORT = 5488;

/** The requested port, else the default when nothing listens there, else one the kernel hands out. */
export async function choosePort(requested?: number): Promise<number> {
  if (requested !== undefined) return requested;
  return (await listenOnce(DEFAULT_PORT)) ?? (await listenOnce(0))!;
}

export async function freePort(): Promise<number> {
  return (await listenOnce(0))!;
}

function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(undefined));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      const { port: bound } = server.address() as net.AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}
