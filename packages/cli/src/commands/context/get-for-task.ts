import { arg, common, defineCommand, opt } from '../../define.js';

export const getForTask = defineCommand({
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
  async handler({ args, opts }, io) {
    const { getForTaskCommand } = await import('./entries.js');
    return getForTaskCommand(args.task, opts, io);
  },
});
