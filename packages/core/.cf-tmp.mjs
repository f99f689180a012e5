import * as c from './dist/index.js';
const { plan } = await c.loadPlan(process.argv[2], { allowUnknownDependencies: true });
const u0 = process.cpuUsage();
for (let i = 0; i < 5; i++) c.detectConflicts(plan);
const u = process.cpuUsage(u0); console.log('conflicts x5', ((u.user + u.system) / 1000).toFixed(0));
