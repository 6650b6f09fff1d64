import { freePort } from './free-port.util';

describe('freePort', () => {
  it('never hands out a port twice in one process, though nothing listens on it yet', async () => {
    // A thousand draws from the range would repeat a port almost surely if it were only checked by listening.
    const ports: number[] = [];
    for (let drawn = 0; drawn < 1_000; drawn += 1) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });
});
