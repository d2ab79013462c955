// Finished tasks and assignments stay as history, so what the daemon runs often must not read all of it: counts kept
// by triggers (checked against the rows), and queries that find their rows by index (checked on SQLite's plans).
import { join } from "node:path";
import Database from "better-sqlite3";
import t from "tap";
import { AssignmentRepo } from "../src/store/assignment-repo.js";
import { openStore } from "../src/store/db.js";
import { migrations } from "../src/store/migrations.js";
import { Revision } from "../src/store/revision.js";
import { TaskRepo, type NewTask, type TaskStatus } from "../src/store/task-repo.js";
import { tempDir } from "./helpers/daemon.js";

const STATUSES: TaskStatus[] = ["pending", "assigned", "running", "completed", "failed", "cancelled"];
const TERMINAL = new Set<TaskStatus>(["completed", "failed", "cancelled"]);

function newTask(id: string, swarmId: string, parentId: string | null, createdAt: number): NewTask {
  return {
    id,
    kind: "task",
    swarmId,
    parentId,
    phase: parentId === null ? null : "p",
    description: id,
    input: null,
    priority: 1,
    strategy: "balanced",
    requiredCapabilities: [],
    parallelism: 1,
    aggregation: "first",
    failureThreshold: 0.5,
    timeoutMs: 1000,
    maxAttempts: 3,
    backoffMs: 100,
    backoffMultiplier: 2,
    createdAt,
  };
}

function addSwarm(db: Database.Database, id: string): void {
  db.prepare(`INSERT INTO swarms (id, name, topology, strategy, max_agents, consensus_threshold, status, created_at, updated_at)
    VALUES (?, ?, 'mesh', 'balanced', 8, 0.7, 'active', 0, 0)`).run(id, id);
}

/** What swarm_status and /metrics would say if they counted the rows themselves, as they did before migration 3. */
function countedFromRows(db: Database.Database, swarmId: string) {
  const counts: Record<TaskStatus, number> = { pending: 0, assigned: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  let total = 0;
  for (const r of db.prepare("SELECT status, count(*) AS n FROM tasks WHERE swarm_id = ? AND parent_id IS NULL GROUP BY status").all(swarmId) as Array<{ status: TaskStatus; n: number }>) {
    counts[r.status] = r.n;
    total += r.n;
  }
  const avg = db.prepare("SELECT avg(finished_at - created_at) FROM tasks WHERE swarm_id = ? AND parent_id IS NULL AND status = 'completed'").pluck().get(swarmId) as number | null;
  return { counts, total, avgCompletionMs: avg };
}

function allFromRows(db: Database.Database): Record<string, number> {
  const rows = db.prepare("SELECT status, count(*) AS n FROM tasks GROUP BY status").all() as Array<{ status: string; n: number }>;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

t.test("swarm_status's task counts and average, and /metrics' counts, agree with the rows through every kind of change", async (t) => {
  const path = join(tempDir(t), "swarmd.db");
  const store = await openStore(path, { synchronous: "normal" });
  const tasks = new TaskRepo(store.db);
  const swarms = ["s1", "s2", "s3"];
  for (const s of swarms) addSwarm(store.db, s);
  // A fixed sequence of pseudo-random changes (a linear congruential generator), so a failure can be replayed.
  let seed = 7;
  const next = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const made: Array<{ id: string; createdAt: number }> = [];
  for (let i = 0; i < 3000; i++) {
    const op = next(10);
    if (op < 3 || made.length === 0) {
      const swarmId = swarms[next(3)] as string;
      const parent = next(3) === 0 ? store.db.prepare("SELECT id FROM tasks WHERE swarm_id = ? AND parent_id IS NULL LIMIT 1").pluck().get(swarmId) : undefined;
      const task = newTask(`t${i}`, swarmId, (parent as string | undefined) ?? null, 1000 + i);
      tasks.insert(task, "pending");
      made.push({ id: task.id, createdAt: task.createdAt });
    } else {
      const target = made[next(made.length)] as { id: string; createdAt: number };
      const status = STATUSES[next(STATUSES.length)] as TaskStatus;
      if (op === 9) tasks.update(target.id, { attempts: next(5) }, 5000 + i); // a change the counts do not depend on
      else if (op === 8) tasks.update(target.id, { finishedAt: target.createdAt + next(900) }, 5000 + i);
      else tasks.update(target.id, { status, finishedAt: TERMINAL.has(status) ? target.createdAt + 1 + next(900) : null }, 5000 + i);
    }
  }
  for (const s of swarms) t.same(tasks.swarmSummary(s), countedFromRows(store.db, s), `swarm ${s}`);
  t.same(tasks.countByStatus(), allFromRows(store.db), "every task, phases included, by status");
  await store.close();

  const reopened = await openStore(path, { synchronous: "normal" });
  t.teardown(() => reopened.close());
  const again = new TaskRepo(reopened.db);
  for (const s of swarms) t.same(again.swarmSummary(s), countedFromRows(reopened.db, s), `swarm ${s} after a restart`);
});

t.test("a database from before the counts were kept has its history counted once, as it is opened", async (t) => {
  const path = join(tempDir(t), "swarmd.db");
  const old = new Database(path);
  old.pragma("journal_mode = WAL");
  for (const m of migrations.filter((m) => m.version <= 2)) old.exec(m.sql);
  old.pragma("user_version = 2");
  addSwarm(old, "s1");
  const insert = old.prepare(`INSERT INTO tasks (id, seq, swarm_id, kind, parent_id, description, priority, strategy, required_capabilities,
      parallelism, aggregation, failure_threshold, timeout_ms, max_attempts, backoff_ms, backoff_multiplier, status, created_at, updated_at, finished_at)
    VALUES (?, ?, 's1', 'task', ?, 'old', 1, 'balanced', '[]', 1, 'first', 0.5, 1000, 3, 100, 2, ?, ?, ?, ?)`);
  for (let i = 1; i <= 500; i++) {
    const status = STATUSES[i % STATUSES.length] as TaskStatus;
    insert.run(`t${i}`, i, i % 7 === 0 ? "t1" : null, status, i * 10, i * 10, TERMINAL.has(status) ? i * 10 + (i % 13) : null);
  }
  const before = countedFromRows(old, "s1");
  old.close();

  const store = await openStore(path, { synchronous: "normal" });
  t.teardown(() => store.close());
  t.equal(store.schemaVersion, 3);
  const tasks = new TaskRepo(store.db);
  t.same(tasks.swarmSummary("s1"), before, "the same counts and average as counting the rows");
  t.same(tasks.countByStatus(), allFromRows(store.db));
  tasks.insert(newTask("new", "s1", null, 99_999), "pending");
  t.equal(tasks.swarmSummary("s1").counts.pending, before.counts.pending + 1, "and tasks added since are counted");
});

t.test("the queries the daemon runs on tasks and assignments find their rows by index, never by reading the history", async (t) => {
  const store = await openStore(join(tempDir(t), "swarmd.db"), { synchronous: "normal" });
  t.teardown(() => store.close());
  const tasks = new TaskRepo(store.db);
  const assignments = new AssignmentRepo(store.db, new Revision());
  addSwarm(store.db, "s1");
  store.db.prepare(`INSERT INTO agents (id, swarm_id, seq, type, name, status, capabilities, capacity, runtime, created_at, updated_at)
    VALUES ('a1', 's1', 1, 'coder', 'a1', 'idle', '[]', 1, '{}', 0, 0)`).run();
  // Every method, so that every statement they prepare is in the list below.
  tasks.insert(newTask("t1", "s1", null, 1), "pending");
  tasks.insert(newTask("t2", "s1", "t1", 2), "pending");
  tasks.addDependency("t2", "t1");
  tasks.get("t1");
  tasks.children("t1");
  tasks.dependencies("t2");
  tasks.dependents("t1");
  tasks.schedulable(10);
  tasks.nextRetryAt();
  tasks.update("t1", { status: "running", startedAt: 3 }, 3);
  for (const swarmId of [undefined, "s1"]) {
    for (const status of [undefined, "failed" as const]) {
      for (const beforeSeq of [undefined, 2]) tasks.list({ swarmId, status, beforeSeq, topLevel: beforeSeq === 2 }, 20);
    }
  }
  tasks.swarmSummary("s1");
  tasks.openInSwarm("s1");
  tasks.existing(["t1", "nope"]);
  tasks.countByStatus();
  assignments.insert({ id: "x1", taskId: "t1", agentId: "a1", attempt: 1, status: "assigned", assignedAt: 4, startedAt: null, deadlineAt: null });
  assignments.get("x1");
  assignments.byTask("t1");
  assignments.ofAttempt("t1", 1);
  assignments.active();
  assignments.activeByAgent("a1");
  assignments.nextWaiting("a1");
  assignments.start("x1", 5, 100);
  assignments.progress("x1", 0.5, null, 200);
  assignments.expired(300);
  assignments.nextDeadline();
  assignments.finish("x1", "completed", "1", null, 6);

  const statements = [...tasks.sql.prepared(), ...assignments.sql.prepared()];
  t.ok(statements.length >= 30, `${statements.length} statements checked`);
  for (const sql of statements) {
    const names = [...new Set([...sql.matchAll(/@(\w+)/g)].map((m) => m[1] as string))];
    const explain = store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
    const plan = (names.length > 0 ? explain.all(Object.fromEntries(names.map((n) => [n, null]))) : explain.all(...(sql.match(/\?/g) ?? []).map(() => null))) as Array<{ detail: string }>;
    // A walk along an index that stops at LIMIT is fine; reading a whole table, or searching it without an index, is not.
    const reads = plan.map((r) => r.detail).filter((d) => /^(SCAN|SEARCH) (tasks|assignments)\b/.test(d));
    const unindexed = reads.filter((d) => (d.startsWith("SCAN") && !(/ LIMIT /.test(sql) && / USING (COVERING )?INDEX /.test(d))) || !/ USING /.test(d));
    t.same(unindexed, [], sql.replace(/\s+/g, " ").slice(0, 140));
  }
});
