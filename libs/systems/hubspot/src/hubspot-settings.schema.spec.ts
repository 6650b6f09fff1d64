import { HubSpotSettingsSchema, hubSpotLimits } from './hubspot-settings.schema';

describe('HubSpotSettingsSchema', () => {
  it('fills in the defaults', () => {
    const settings = HubSpotSettingsSchema.parse({ accountId: 33 });
    expect(settings).toEqual({
      baseUrl: 'https://api.hubapi.com',
      accountId: '33',
      tier: 'starter',
      searchRateLimit: { limit: 5, windowMs: 1_000 },
      requestTimeoutMs: 10_000,
      pollIntervalMs: 30_000,
      archivedSweepIntervalMs: 300_000,
      searchLagMs: 10_000,
    });
    expect(hubSpotLimits(settings)).toEqual({
      requests: { limit: 100, windowMs: 10_000 },
      search: { limit: 5, windowMs: 1_000 },
      daily: 250_000,
    });
  });

  it.each([
    ['professional', 190, 650_000],
    ['enterprise', 190, 650_000],
    ['api_add_on', 250, 1_000_000],
  ] as const)('sizes the %s tier at %i per 10 s', (tier, perTenSeconds, daily) => {
    const limits = hubSpotLimits(HubSpotSettingsSchema.parse({ accountId: '1', tier }));
    expect(limits.requests).toEqual({ limit: perTenSeconds, windowMs: 10_000 });
    expect(limits.daily).toBe(daily);
  });

  it('takes an explicit rate limit over the tier', () => {
    const settings = HubSpotSettingsSchema.parse({ accountId: '1', tier: 'enterprise', rateLimit: { limit: 20, windowMs: 1_000 } });
    expect(hubSpotLimits(settings).requests).toEqual({ limit: 20, windowMs: 1_000 });
  });

  it('names every bad setting', () => {
    const result = HubSpotSettingsSchema.safeParse({ baseUrl: 'ftp://x', tier: 'gold', requestTimeoutMs: -1, token: 'x' });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.') || issue.message);
    expect(paths).toEqual(expect.arrayContaining(['baseUrl', 'accountId', 'tier', 'requestTimeoutMs']));
    expect(JSON.stringify(result.error?.issues)).toContain('token');
  });
});
