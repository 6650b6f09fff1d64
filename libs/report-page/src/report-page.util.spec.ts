import { escapeHtml, niceStep, reportPage } from './report-page.util';

describe('report pages', () => {
  it('escapes what would otherwise be markup', () => {
    expect(escapeHtml(`<a href="x">&</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
  });

  it('spaces ticks at 1, 2 or 5 times a power of ten, about ten over the span', () => {
    expect([niceStep(10), niceStep(95), niceStep(130), niceStep(3_100), niceStep(0.4)]).toEqual([1, 10, 20, 500, 0.05]);
  });

  it('puts the escaped title in the head and as the heading, and the body as given', () => {
    const page = reportPage('bench <1>', '<svg></svg>');
    expect(page).toContain('<title>bench &lt;1&gt;</title>');
    expect(page).toContain('<h1>bench &lt;1&gt;</h1>\n<svg></svg>');
  });
});
