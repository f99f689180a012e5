import { arg, common, defineCommand, opt } from '../../define.js';

const set = defineCommand({
  name: 'set',
  description: 'Set a key (the value is parsed as JSON when it is JSON, else kept as text)',
  args: { key: arg.required('key', 'for example api.dates'), value: arg.required('value', 'JSON or text') },
  options: {
    from: opt.text('--from <id>', 'who records it (default: ORCH_TASK, else "user")'),
    json: common.json('print the entry as JSON'),
  },
  examples: ['orch context set api.dates "ISO 8601 strings in UTC" --from api'],
  async handler({ args, opts }) {
    const { setCommand } = await import('./entries.js');
    return { exitCode: await setCommand(args.key, args.value, opts) };
  },
});

const get = defineCommand({
  name: 'get',
  description: 'Print the value of a key (or a dotted path into a value)',
  args: { key: arg.required('key', 'the key') },
  options: { json: common.json('print the entry as JSON') },
  examples: ['orch context get api.dates'],
  async handler({ args, opts }) {
    const { getCommand } = await import('./entries.js');
    return { exitCode: await getCommand(args.key, opts) };
  },
});

const list = defineCommand({
  name: 'list',
  description: 'List every entry',
  options: { json: common.json('print the entries as JSON') },
  examples: ['orch context list --json'],
  async handler({ opts }) {
    const { listCommand } = await import('./entries.js');
    return { exitCode: await listCommand(opts) };
  },
});

const search = defineCommand({
  name: 'search',
  description: 'List entries whose key or value contains the text (case-insensitive)',
  args: { text: arg.required('text', 'what to look for') },
  options: { json: common.json('print the entries as JSON') },
  examples: ['orch context search auth'],
  async handler({ args, opts }) {
    const { searchCommand } = await import('./entries.js');
    return { exitCode: await searchCommand(args.text, opts) };
  },
});

const remove = defineCommand({
  name: 'delete',
  description: 'Delete a key (exit 1 when it did not exist)',
  args: { key: arg.required('key', 'the key') },
  options: { json: common.json('print {key, deleted} as JSON') },
  examples: ['orch context delete api.dates'],
  async handler({ args, opts }) {
    const { deleteCommand } = await import('./entries.js');
    return { exitCode: await deleteCommand(args.key, opts) };
  },
});

const getForTask = defineCommand({
  name: 'get-for-task',
  description:
    'Print the entries relevant to a task as Markdown for its prompt (context_keys, keywords, paths)',
  args: { task: arg.required('task', 'a task id of the plan') },
  options: {
    plan: opt.text('--plan <file>', "the plan (default: the run's saved plan, else tasks.yaml)"),
    run: common.run(),
    json: common.json('print {task, markdown} as JSON'),
  },
  examples: ['orch context get-for-task api --plan tasks.yaml'],
  async handler({ args, opts }) {
    const { getForTaskCommand } = await import('./entries.js');
    return { exitCode: await getForTaskCommand(args.task, opts) };
  },
});

export const context = defineCommand({
  name: 'context',
  description: "Shared context of the repository: facts workers record for each other's prompts",
  examples: ['orch context set api.base_url "/api/v2"', 'orch context get-for-task ui'],
  subcommands: [set, get, list, search, remove, getForTask],
});
