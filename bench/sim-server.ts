// Runs the simulated VLM in its own process for benchmarks, so its CPU is not counted as the client's.
// Prints its URL on the first line; stops on SIGTERM.
import { startSimVlm } from '../test/helpers/sim-vlm.js';

const latencyMs = Number(process.argv[2] ?? 100);
const sim = await startSimVlm({ latencyMs });
console.log(sim.url);
process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
