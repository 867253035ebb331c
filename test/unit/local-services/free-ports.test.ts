import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { canListen, ephemeralPortRange, freePort, freePortWithSides } from '../../../local-services/process.ts';

const servers: net.Server[] = [];
const listenOn = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    servers.push(server);
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('free ports for throwaway stacks', () => {
  it('knows a port somebody listens on from a free one', async () => {
    const port = await freePort();
    expect(await canListen(port)).toBe(true);
    await listenOn(port);
    expect(await canListen(port)).toBe(false);
  });

  it("hands out ports below the kernel's ephemeral range, which outgoing connections may take at any moment", async () => {
    const { low } = ephemeralPortRange();
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeLessThan(low);
      expect(port).toBeGreaterThanOrEqual(15000);
    }
  });

  it('finds a main port whose side ports are free, so a server deriving them does not collide', async () => {
    const port = await freePortWithSides([10, 11]);
    expect(await canListen(port)).toBe(true);
    expect(await canListen(port + 10)).toBe(true);
    expect(await canListen(port + 11)).toBe(true);
  });

  it('skips a main port whose side port is taken, and says so when none is found', async () => {
    const taken = await freePortWithSides([10]);
    const other = await freePortWithSides([10]);
    await listenOn(taken + 10);
    const candidates = [taken, other];
    expect(await freePortWithSides([10], { pick: async () => candidates.shift()! })).toBe(other);
    await expect(freePortWithSides([10], { attempts: 3, pick: async () => taken })).rejects.toThrow(
      'no free port with free neighbours at +10 after 3 tries',
    );
  });
});
