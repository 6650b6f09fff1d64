import { ConfigError } from '@tandem/config';
import { StackError, startStack, stopStack } from './stack.service';
import { parseStackSettings } from './stack.settings';

const USAGE = 'usage: stack start|stop (npm run stack / npm run stack:stop)';

async function main(command: string | undefined): Promise<void> {
  if (command !== 'start' && command !== 'stop') throw new StackError(USAGE);
  const settings = parseStackSettings();
  const out = (line: string) => process.stdout.write(`${line}\n`);
  await (command === 'start' ? startStack(settings, out) : stopStack(settings, out));
}

main(process.argv[2]).catch((error: unknown) => {
  const expected = error instanceof StackError || error instanceof ConfigError;
  process.stderr.write(`${expected ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(expected ? (error instanceof ConfigError ? 2 : 1) : 1);
});
