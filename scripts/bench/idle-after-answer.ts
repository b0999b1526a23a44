// npx tsx scripts/bench/idle-after-answer.ts: does work queued after a gRPC answer delay that
// answer? A grpc-js server answers each call in its handler and queues 3 ms of busy work N
// event-loop turns later (setImmediate nested N deep), or after a 1 ms timer; the client prints
// the median round trip of each. Why the service's O(N) idle work waits for quiet time (DESIGN.md).
import * as grpc from '@grpc/grpc-js';
import { loadEcho } from './echo-server.js';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};
const turnsLater = (turns: number, work: () => void): void => {
  if (turns === 0) work();
  else setImmediate(() => turnsLater(turns - 1, work));
};
const schedules: Record<string, ((work: () => void) => void) | undefined> = {
  'no work': undefined,
  'setImmediate, 1 turn later': (work) => turnsLater(1, work),
  '2 turns later': (work) => turnsLater(2, work),
  '3 turns later': (work) => turnsLater(3, work),
  'after a 1 ms timer': (work) => setTimeout(work, 1),
};
let schedule: ((work: () => void) => void) | undefined;
const server = new grpc.Server();
server.addService(loadEcho().service, {
  NextBatch: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
    callback(null, { step: 1 });
    schedule?.(() => busy(3));
  },
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
);
const Echo = loadEcho();
const client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as {
  NextBatch(request: object, callback: () => void): void;
};
for (const [name, s] of Object.entries(schedules)) {
  schedule = s;
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    await new Promise<void>((resolve) => client.NextBatch({}, resolve));
    times.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 5)); // the work is over before the next call
  }
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(28)} median round trip ${times[100]!.toFixed(2)} ms`);
}
server.forceShutdown();
process.exit(0);
