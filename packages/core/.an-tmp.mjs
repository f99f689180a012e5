import * as c from './dist/index.js';
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const file = process.argv[2];
for (let r = 0; r < 3; r++) {
  let t = cpu(); const { plan } = await c.loadPlan(file, { allowUnknownDependencies: true }); const tl = cpu() - t;
  t = cpu(); c.analyzeDag(plan); const td = cpu() - t;
  t = cpu(); c.detectConflicts(plan); const tc = cpu() - t;
  t = cpu(); c.scoreRisk(plan); const tr = cpu() - t;
  t = cpu(); JSON.stringify(plan, null, 2); const tj = cpu() - t;
  console.log(`load ${tl.toFixed(0)} dag ${td.toFixed(0)} conflicts ${tc.toFixed(0)} risk ${tr.toFixed(0)}`);
}
