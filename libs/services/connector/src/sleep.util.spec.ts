import { getEventListeners } from 'node:events';
import { sleep } from './sleep.util';

describe('sleep', () => {
  it('removes its abort listener when the time is up, so long-lived signals do not collect them', async () => {
    const controller = new AbortController();
    for (let round = 0; round < 20; round += 1) await sleep(1, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('resolves at once when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const sleeping = sleep(60_000, controller.signal);
    controller.abort();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
