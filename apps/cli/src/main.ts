import { ConfigError, env, parseEnv } from '@tandem/config';
import { ConflictResolutionError } from '@tandem/pipeline';
import { createPgSqlClient, migrate } from '@tandem/state';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { applySyncConfig, CliError, listConflicts, listRecordErrors, listSyncConfigs, resolveConflict, type Output } from './cli.commands';

const USAGE = `usage: tandem <command>
  sync apply <file.json>                      validate a sync configuration and store it
  sync list                                   the stored sync configurations
  conflicts list --tenant T [--status S]      the conflict log (S: pending or resolved)
  conflicts resolve <id> --by NAME (--side SYSTEM | --value V)
                                              decide a pending conflict
  errors list --tenant T                      the per-record error log
environment: DATABASE_URL; for "conflicts resolve" also KAFKA_BROKERS and TOPIC_PREFIX (default tandem)`;

const DatabaseEnv = z.object({ DATABASE_URL: env.url(['postgres', 'postgresql']) });
const KafkaEnv = z.object({ KAFKA_BROKERS: env.brokers(), TOPIC_PREFIX: z.string().min(1).default('tandem') });

async function main(argv: string[], out: Output): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      status: { type: 'string' },
      side: { type: 'string' },
      value: { type: 'string' },
      by: { type: 'string' },
    },
  });
  const [group, action, subject] = positionals;
  const command = `${group ?? ''} ${action ?? ''}`.trim();
  const known = ['sync apply', 'sync list', 'conflicts list', 'conflicts resolve', 'errors list'];
  if (!known.includes(command)) throw new CliError(command ? `unknown command "${command}"\n${USAGE}` : USAGE);

  const { DATABASE_URL } = parseEnv('tandem', DatabaseEnv);
  // A command runs each statement once: preparing them would gain nothing, and a pooler may not keep them.
  const db = createPgSqlClient(DATABASE_URL, { preparedStatements: false });
  try {
    // The same migrations the services run at start, so the commands work on a fresh database too.
    await migrate(db);
    switch (command) {
      case 'sync apply':
        return await applySyncConfig(db, required(subject, 'the configuration file'), out);
      case 'sync list':
        return await listSyncConfigs(db, out);
      case 'conflicts list': {
        const status = values.status;
        if (status !== undefined && status !== 'pending' && status !== 'resolved') throw new CliError(`--status must be pending or resolved (got "${status}")`);
        return await listConflicts(db, required(values.tenant, '--tenant'), status, out);
      }
      case 'conflicts resolve': {
        if ((values.side === undefined) === (values.value === undefined)) throw new CliError('give exactly one of --side SYSTEM or --value V');
        const kafka = parseEnv('tandem', KafkaEnv);
        const choice = values.side !== undefined ? { kind: 'side' as const, system: values.side } : { kind: 'value' as const, value: values.value ?? null };
        return await resolveConflict(db, { brokers: kafka.KAFKA_BROKERS, topicPrefix: kafka.TOPIC_PREFIX }, required(subject, 'the conflict id'), choice, required(values.by, '--by'), out);
      }
      case 'errors list':
        return await listRecordErrors(db, required(values.tenant, '--tenant'), out);
    }
  } finally {
    await db.close();
  }
}

function required(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new CliError(`missing ${what}\n${USAGE}`);
  return value;
}

main(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`)).catch((error: unknown) => {
  const expected = error instanceof CliError || error instanceof ConfigError || error instanceof ConflictResolutionError;
  process.stderr.write(`${expected ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(expected ? 2 : 1);
});
