import { networkInterfaces } from 'node:os';
import { CONTACTS_PATH, apiClient } from './api-test-client.util';
import { HubSpotSimulator } from './hubspot-simulator.service';
import { HubSpotSimulatorErrorCode } from './hubspot-simulator.error';

/** An address of this machine other than the loopback, where one exists. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal)?.address;
const withExternalAddress = externalAddress ? it : it.skip;

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { headers: { Authorization: 'Bearer sim-token' }, signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

describe('HubSpot simulator: listen address', () => {
  let simulator: HubSpotSimulator | undefined;

  afterEach(() => simulator?.close());

  it('listens on the loopback by default', async () => {
    simulator = await HubSpotSimulator.start();
    expect(simulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await apiClient(simulator)('GET', CONTACTS_PATH)).status).toBe(200);
  });

  withExternalAddress('is reachable from other machines only when asked to listen on every address', async () => {
    simulator = await HubSpotSimulator.start();
    const port = new URL(simulator.url).port;
    expect(await answers(`http://${externalAddress}:${port}${CONTACTS_PATH}`)).toBe(false);
    await simulator.close();

    simulator = await HubSpotSimulator.start({ host: '0.0.0.0' });
    const open = new URL(simulator.url).port;
    expect(simulator.url).toBe(`http://127.0.0.1:${open}`);
    expect(await answers(`http://${externalAddress}:${open}${CONTACTS_PATH}`)).toBe(true);
    expect((await apiClient(simulator)('GET', CONTACTS_PATH)).status).toBe(200);
  });

  it('rejects a host that is not an address', async () => {
    await expect(HubSpotSimulator.start({ host: 'not an address' })).rejects.toMatchObject({
      code: HubSpotSimulatorErrorCode.InvalidOptions,
      message: expect.stringContaining('host'),
    });
  });
});
