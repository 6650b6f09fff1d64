import { transformFile, type Options } from '@swc/core';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

/** Source trees compiled; tests and their fixtures are left out. */
const SOURCE_DIRS = ['apps', 'libs'];
const SKIPPED = /\.(spec|integration-spec)\.ts$|\.d\.ts$/;

export interface CompileResult {
  files: number;
  outDir: string;
}

/**
 * Compiles every app and library to CommonJS under `outDir`, mirroring the source tree, so
 * `node <outDir>/apps/<app>/src/main.js` runs without a TypeScript loader. Decorator metadata is kept
 * (Nest injects by it) and the `@tandem/*` path aliases become relative requires. Types are not
 * checked here; `tsc --noEmit` does that.
 */
export async function compileWorkspace(root: string, outDir: string): Promise<CompileResult> {
  const base = resolve(root);
  const out = resolve(outDir);
  const { compilerOptions } = JSON.parse(await readFile(join(base, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
  const options: Options = {
    swcrc: false,
    sourceMaps: false,
    module: { type: 'commonjs' },
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
      baseUrl: base,
      paths: compilerOptions.paths,
    },
  };
  const sources = (await Promise.all(SOURCE_DIRS.map((dir) => typeScriptFiles(join(base, dir))))).flat();
  for (const source of sources) {
    const { code } = await transformFile(source, { ...options, filename: source });
    const target = join(out, relative(base, source)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, code);
  }
  return { files: sources.length, outDir: out };
}

async function typeScriptFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name.startsWith('__') ? [] : typeScriptFiles(path);
      return entry.name.endsWith('.ts') && !SKIPPED.test(entry.name) ? [path] : [];
    }),
  );
  return nested.flat();
}
