import { renderRunPage, type RunPage } from './run-page.util';

const run = (overrides: Partial<RunPage> = {}): RunPage => ({
  result: { seed: 7, converged: true },
  passed: true,
  startedMs: 0,
  workloadDoneMs: 50_000,
  settledMs: 60_000,
  faults: [
    { lane: 'kill -9 reconciler', label: 'kill -9 reconciler, 1.2 s', startMs: 10_000, endMs: 11_200 },
    { lane: 'HubSpot slow', label: 'HubSpot slow, 3.0 s', startMs: 20_000, endMs: 23_000 },
    { lane: 'kill -9 reconciler', label: 'kill -9 reconciler, 0.4 s', startMs: 30_000, endMs: 30_400 },
  ],
  ops: [
    { system: 'crm', start: 1_000 },
    { system: 'crm', start: 1_500 },
    { system: 'hubspot', start: 2_000 },
  ],
  findings: [],
  ...overrides,
});

describe('renderRunPage', () => {
  it('draws one lane per fault kind with a bar per fault, and each system\'s edits per second', () => {
    const page = renderRunPage(run());
    expect(page).toContain('<title>verify seed 7: passed</title>');
    expect(page.match(/<title>kill -9 reconciler, /g)).toHaveLength(2);
    expect(page).toContain('<title>HubSpot slow, 3.0 s</title>');
    // Two CRM edits in the same second make one bar of two; HubSpot's one edit its own.
    expect(page).toContain('edits in crm (peak 2/s)');
    expect(page).toContain('<title>2 at 1 s</title>');
    expect(page).toContain('edits in hubspot (peak 1/s)');
    expect(page).toContain('The checker found nothing wrong.');
  });

  it('lists what the checker found, escaped, on a failed run', () => {
    const page = renderRunPage(run({ passed: false, findings: ['silent loss: op 3 set <phone> to "P1"'] }));
    expect(page).toContain('verify seed 7: FAILED');
    expect(page).toContain('<li>silent loss: op 3 set &lt;phone&gt; to &quot;P1&quot;</li>');
  });
});
