/** `porthole api migrate-store --from json --to postgres`: the JSON store into PostgreSQL. */
import { EXIT_FAILURE, EXIT_OK, UsageError, type Command } from './command.js';
import { databaseOption, dataDirOption, expectArgs } from './api-admin.js';
import { resolveDatabaseUrl, resolveDataDir } from '../api/data-dir.js';
import { StoreError } from '../api/store.js';
import { silentLogger } from '../log/logger.js';

export const migrateStore: Command = {
  name: 'migrate-store',
  summary: "Copy the data dir's JSON store and audit log into an empty PostgreSQL database",
  usage: 'porthole api migrate-store --from json --to postgres [--data-dir D] --database URL [--json]',
  options: {
    from: { type: 'string', description: 'The source store: json (the data dir)' },
    to: { type: 'string', description: 'The target store: postgres (--database)' },
    'data-dir': dataDirOption,
    database: databaseOption,
    json: { type: 'boolean', description: 'Print the counts as JSON' },
  },
  async run(values, positionals) {
    expectArgs(positionals, []);
    if (values.from !== 'json' || values.to !== 'postgres') {
      throw new UsageError('only --from json --to postgres is supported');
    }
    const database = resolveDatabaseUrl(values.database as string | undefined);
    if (database === undefined) throw new UsageError('--database postgres://… is required');
    const dataDir = resolveDataDir(values['data-dir'] as string | undefined);
    const { migrateJsonToPostgres } = await import('../api/migrate-store.js');
    try {
      const r = await migrateJsonToPostgres({
        dataDir,
        database,
        log: silentLogger,
        // Progress goes to stderr so that --json output stays one parseable line.
        progress: (line) => console.error(`migrate-store: ${line}`),
      });
      if (values.json) console.log(JSON.stringify(r));
      else if (r.alreadyDone) {
        console.log('The database already holds exactly this store: nothing copied.');
      } else {
        console.log(
          `Copied ${r.devices} devices, ${r.viewerTokens} viewer tokens, ${r.enrollKeys} enrollment keys and ` +
            `${r.auditLines} audit lines${r.auditSkipped > 0 ? ` (${r.auditSkipped} unreadable audit lines left out)` : ''}.\n` +
            `Start the API with --database (and without relying on ${dataDir} any more).`,
        );
      }
      return EXIT_OK;
    } catch (err) {
      if (err instanceof StoreError && (err.code === 'exists' || err.code === 'not_found')) {
        console.error(`porthole api migrate-store: ${err.message}`);
        return EXIT_FAILURE;
      }
      throw err;
    }
  },
};
