/**
 * `porthole api`: a group of nested sub-commands (`serve`, `migrate-store`, `device
 * add|remove|list|rename`, `token issue|revoke|list`, `enroll-key create|list|revoke`), each with its
 * own flags and --help.
 *
 * The generic CLI (src/cli/main.ts) parses one level of flags and prints help from the Command's
 * `usage`, `summary` and `options` before `run` is called. So that `porthole api device add --help`
 * prints the help of `device add` and each nested command rejects flags that are not its own, those
 * three fields are getters that pick the nested command named on this process's command line.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT_USAGE, UsageError, type Command, type OptionSpec } from './command.js';
import { deviceAdd, deviceList, deviceRemove, tokenIssue, tokenList, tokenRevoke } from './api-admin.js';
import { serve } from './api-serve.js';
import { deviceRename, enrollKeyCreate, enrollKeyList, enrollKeyRevoke } from './api-enroll-keys.js';
import { migrateStore } from './api-migrate-store.js';

interface Group {
  name: string;
  summary: string;
  children: Record<string, Command>;
}

const groups: Record<string, Group | Command> = {
  serve,
  'migrate-store': migrateStore,
  device: {
    name: 'device',
    summary: 'Manage devices (agents): add prints the id and token for `porthole service`',
    children: { add: deviceAdd, remove: deviceRemove, list: deviceList, rename: deviceRename },
  },
  'enroll-key': {
    name: 'enroll-key',
    summary: 'Manage enrollment keys, with which machines register themselves (porthole service enroll)',
    children: { create: enrollKeyCreate, list: enrollKeyList, revoke: enrollKeyRevoke },
  },
  token: {
    name: 'token',
    summary: 'Manage viewer tokens: named long-lived ones, and one-time login tokens (--once)',
    children: { issue: tokenIssue, revoke: tokenRevoke, list: tokenList },
  },
};

const SUMMARY = 'Run the reference API and signaling server, and manage devices and tokens';

function isGroup(g: Group | Command): g is Group {
  return 'children' in g;
}

/** Every nested command's flags, for parsing before the nested command is known. */
function allOptions(): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const g of Object.values(groups)) {
    for (const c of isGroup(g) ? Object.values(g.children) : [g]) Object.assign(out, c.options);
  }
  return out;
}

type Selection = { command: Command; rest: string[] } | { group: Group | undefined; unknown?: string };

/** Which nested command positionals name: `['device', 'add', 'pc']` → device add, rest `['pc']`. */
function select(positionals: string[]): Selection {
  const [first, second, ...rest] = positionals;
  if (first === undefined) return { group: undefined };
  const g = groups[first];
  if (!g) return { group: undefined, unknown: first };
  if (!isGroup(g)) return { command: g, rest: positionals.slice(1) };
  if (second === undefined) return { group: g };
  const c = g.children[second];
  return c ? { command: c, rest } : { group: g, unknown: `${first} ${second}` };
}

/** The positionals of this process's `porthole api …` command line, if that is what is running. */
function argvPositionals(): string[] | undefined {
  const argv = process.argv.slice(2);
  if (argv[0] !== 'api') return undefined;
  const options = Object.fromEntries(
    Object.entries(allOptions()).map(([k, { description: _d, ...o }]) => [k, o]),
  ) as ParseArgsConfig['options'];
  try {
    return parseArgs({ args: argv.slice(1), options, strict: false, allowPositionals: true }).positionals;
  } catch {
    return undefined;
  }
}

function groupHelp(group: Group | undefined): string {
  const entries = group
    ? Object.entries(group.children).map(([n, c]) => [`${group.name} ${n}`, c.summary] as const)
    : Object.entries(groups).map(([n, g]) => [n, g.summary] as const);
  const width = Math.max(...entries.map(([n]) => n.length));
  return [
    group ? group.summary : SUMMARY,
    '',
    'Sub-commands:',
    ...entries.map(([n, s]) => `  ${n.padEnd(width)}  ${s}`),
    '',
    `Run 'porthole api ${group ? `${group.name} ` : ''}<sub-command> --help' for its flags.`,
  ].join('\n');
}

function current(): Selection | undefined {
  const positionals = argvPositionals();
  return positionals ? select(positionals) : undefined;
}

export const apiCommand: Command = {
  name: 'api',
  get summary(): string {
    const s = current();
    if (s && 'command' in s) return s.command.summary;
    if (s && 'group' in s && s.group) return groupHelp(s.group);
    // `porthole --help` lists this line; `porthole api --help` gets the full list.
    return s ? groupHelp(undefined) : SUMMARY;
  },
  get usage(): string {
    const s = current();
    if (s && 'command' in s) return s.command.usage;
    if (s && 'group' in s && s.group)
      return `porthole api ${s.group.name} <${Object.keys(s.group.children).join('|')}> …`;
    return 'porthole api <serve|device|token|enroll-key|migrate-store> …';
  },
  get options(): Record<string, OptionSpec> {
    const s = current();
    if (s && 'command' in s) return s.command.options;
    // A group takes no flags of its own; main() called with another argv accepts every nested flag
    // and run() checks them against the nested command.
    return s ? {} : allOptions();
  },
  async run(values, positionals) {
    const s = select(positionals);
    if (!('command' in s)) {
      const what = s.unknown
        ? `unknown sub-command '${s.unknown}'`
        : `missing sub-command${s.group ? ` after '${s.group.name}'` : ''}`;
      console.error(`porthole api: ${what}\n\n${groupHelp(s.group)}`);
      return EXIT_USAGE;
    }
    for (const key of Object.keys(values)) {
      if (key !== 'help' && !Object.hasOwn(s.command.options, key)) {
        throw new UsageError(`'${s.command.name}' does not take --${key}`);
      }
    }
    return s.command.run(values, s.rest);
  },
};
