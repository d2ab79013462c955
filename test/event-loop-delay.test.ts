import t from "tap";
import { EventLoopDelay } from "../src/ops/event-loop-delay.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const block = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

t.test("a block right after a reading is counted in the next one", async (t) => {
  const delay = new EventLoopDelay();
  t.teardown(() => delay.stop());
  t.same(delay.take(), { min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 }, "nothing sampled yet: all 0");
  // Each round reads, then blocks at once: before anything else runs, as when a scrape is answered and the next
  // callback blocks. monitorEventLoopDelay missed most of these.
  for (let round = 0; round < 5; round++) {
    await sleep(40);
    delay.take();
    block(60);
    await sleep(40);
    const { max } = delay.take();
    t.ok(max >= 0.05 && max < 1, `round ${round}: the 60 ms block is the longest delay: ${max} s`);
  }
});

t.test("an idle loop reads as no delay, not as the sampling interval", async (t) => {
  const delay = new EventLoopDelay();
  t.teardown(() => delay.stop());
  await sleep(200);
  const reading = delay.take();
  t.ok(reading.p50 < 0.005, `p50 ${reading.p50} s`);
  t.ok(reading.min < 0.005, `min ${reading.min} s`);
  t.ok(reading.max >= reading.p99 && reading.p99 >= reading.p50 && reading.p50 >= reading.min, "percentiles in order");
});
