export { escapeHtml, niceStep, reportPage } from './report-page.util';
