import { resolve } from 'node:path';
import { compileWorkspace } from './compile-workspace.util';

/** Usage: compile <outDir> — what the container images run instead of the TypeScript sources. */
const [outDir] = process.argv.slice(2);
if (!outDir) {
  process.stderr.write('usage: node -r @swc-node/register tools/build/src/main.ts <outDir>\n');
  process.exit(2);
}
const root = resolve(__dirname, '../../..');
compileWorkspace(root, outDir).then(
  ({ files, outDir: out }) => process.stdout.write(`compiled ${files} files to ${out}\n`),
  (error: unknown) => {
    process.stderr.write(`compile failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
