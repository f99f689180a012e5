import { arg, common, defineCommand, opt } from '../../define.js';
import { check } from './check.js';

export const plan = defineCommand({
  name: 'plan',
  description: 'Write a plan (tasks.yaml) for a request, or check one (orch plan check)',
  args: { request: arg.optional('request', 'what to build, in words (runs the planner agent)') },
  options: {
    output: opt.textWithDefault('-o, --output <file>', 'where to write the plan', 'tasks.yaml'),
    yes: opt.flag('--yes', 'accept the plan without asking'),
    json: common.json(),
    agent: opt.text('--agent <name>', 'planner agent (default from config)'),
    model: opt.text('--model <m>', 'model for the planner agent'),
  },
  examples: ['orch plan "add rate limiting to the API" -o tasks.yaml', 'orch plan check tasks.yaml'],
  subcommands: [check],
  async handler({ args, opts }, ctx) {
    if (args.request === undefined || args.request.trim() === '') return ctx.usage();
    const { planGenerate } = await import('./generate.js');
    return planGenerate(args.request, opts, ctx);
  },
});
