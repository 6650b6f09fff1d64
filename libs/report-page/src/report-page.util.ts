/**
 * What the project's one-page reports (a convergence run, a benchmark) share: a self-contained page
 * with inline SVG, readable offline and attachable to an issue, and the axis arithmetic of its plots.
 */

/** Text made safe for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A tick spacing of 1, 2 or 5 times a power of ten that puts about ten ticks over `span`. */
export function niceStep(span: number): number {
  const rough = Math.max(span, Number.MIN_VALUE) / 10;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((factor) => factor * power).find((step) => step >= rough)!;
}

/** A whole HTML page: the title as its heading, then `body` (HTML the caller has escaped). */
export function reportPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#1a202c}svg text{font-size:11px}code{background:#edf2f7;padding:2px 4px}table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}
