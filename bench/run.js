// `npm run bench [gateway|agent|store|soak]…`: prints Markdown tables, measured side by side in one run.
import { cpus, totalmem } from 'node:os';
import { benchAgent, benchSoak, benchStore } from './agent.js';
import { benchGateway } from './gateway.js';

const suites = { gateway: benchGateway, agent: benchAgent, store: benchStore, soak: benchSoak };
const chosen = process.argv.slice(2).filter((a) => a in suites);

console.log(`# Flynn benchmarks — ${new Date().toISOString()}`);
console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB\n`);
for (const name of chosen.length > 0 ? chosen : Object.keys(suites)) await suites[name]();
