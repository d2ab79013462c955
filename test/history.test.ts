// Finished tasks and assignments, and terminated agents, stay as history, so what the daemon runs often must not read
// all of it: counts kept by triggers (checked against the rows), and queries that find their rows by index (checked on
// SQLite's plans).
import { join } from "node:path";
import Database from "better-sqlite3";
import t from "tap";
import type { AgentStatus } from "../src/protocol/agent-types.js";
import { AgentRepo } from "../src/store/agent-repo.js";
import { AssignmentRepo } from "../src/store/assignment-repo.js";
import { openStore } from "../src/store/db.js";
import { migrations } from "../src/store/migrations.js";
import { Revision } from "../src/store/revision.js";
import { TaskRepo, type NewTask, type TaskStatus } from "../src/store/task-repo.js";
import { tempDir } from "./helpers/daemon.js";
import { spawnListening } from "./helpers/spawn.js";

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

function allFromRows(db: Database.Database, table: "tasks" | "agents"): Record<string, number> {
  const rows = db.prepare(`SELECT status, count(*) AS n FROM ${table} GROUP BY status`).all() as Array<{ status: string; n: number }>;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

function agentsFromRows(db: Database.Database, swarmId: string): Record<AgentStatus, number> {
  const counts: Record<AgentStatus, number> = { idle: 0, busy: 0, offline: 0, terminated: 0 };
  for (const r of db.prepare("SELECT status, count(*) AS n FROM agents WHERE swarm_id = ? GROUP BY status").all(swarmId) as Array<{ status: AgentStatus; n: number }>) {
    counts[r.status] = r.n;
  }
  return counts;
}

function addAgent(agents: AgentRepo, id: string, swarmId: string, seq: number): void {
  const spec = { type: "coder" as const, name: id, capabilities: [], capacity: 1, config: null, resources: null, runtime: { kind: "none" as const } };
  agents.insert({ id, swarmId, seq, status: "idle", createdAt: seq, ...spec });
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
  t.same(tasks.countByStatus(), allFromRows(store.db, "tasks"), "every task, phases included, by status");
  await store.close();

  const reopened = await openStore(path, { synchronous: "normal" });
  t.teardown(() => reopened.close());
  const again = new TaskRepo(reopened.db);
  for (const s of swarms) t.same(again.swarmSummary(s), countedFromRows(reopened.db, s), `swarm ${s} after a restart`);
});

t.test("swarm_status's and swarm_list's agent counts, and /metrics', agree with the rows as agents come and go", async (t) => {
  const store = await openStore(join(tempDir(t), "swarmd.db"), { synchronous: "normal" });
  t.teardown(() => store.close());
  const agents = new AgentRepo(store.db, new Revision());
  const swarms = ["s1", "s2"];
  for (const s of swarms) addSwarm(store.db, s);
  let seed = 11;
  const next = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const made: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const op = next(6);
    if (op < 2 || made.length === 0) {
      addAgent(agents, `a${i}`, swarms[next(2)] as string, i);
      made.push(`a${i}`);
    } else {
      const id = made[next(made.length)] as string;
      if (op === 2) agents.terminate(id, "churn", i);
      else if (op === 3) agents.setRuntime(id, { kind: "worker" }, (["idle", "busy", "offline"] as const)[next(3)] ?? "idle", i);
      else if (op === 4) agents.touch(id, i); // a change the counts do not depend on
      else agents.setStatus(id, (["idle", "busy", "offline", "terminated"] as const)[next(4)] ?? "idle", i);
    }
  }
  for (const s of swarms) {
    const fromRows = agentsFromRows(store.db, s);
    t.same(agents.countsIn(s), fromRows, `swarm ${s}`);
    t.equal(agents.countLive(s), fromRows.idle + fromRows.busy + fromRows.offline);
    t.same(agents.inSwarm(s, "members").map((r) => r.id), (store.db.prepare("SELECT id FROM agents WHERE swarm_id = ? AND status != 'terminated' ORDER BY seq").pluck().all(s)), "its members, in spawn order");
  }
  t.same(agents.countByStatus(), allFromRows(store.db, "agents"));
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
  const addOld = old.prepare(`INSERT INTO agents (id, swarm_id, seq, type, name, status, capabilities, capacity, runtime, created_at, updated_at)
    VALUES (?, 's1', ?, 'coder', ?, ?, '[]', 1, '{"kind":"none"}', 0, 0)`);
  for (let i = 1; i <= 50; i++) addOld.run(`a${i}`, i, `a${i}`, (["idle", "busy", "offline", "terminated", "terminated"] as const)[i % 5]);
  const before = countedFromRows(old, "s1");
  const agentsBefore = agentsFromRows(old, "s1");
  old.close();

  const store = await openStore(path, { synchronous: "normal" });
  t.teardown(() => store.close());
  t.equal(store.schemaVersion, 3);
  t.equal(store.upgraded?.from, 2, "an upgrade, and from which version");
  const tasks = new TaskRepo(store.db);
  t.same(tasks.swarmSummary("s1"), before, "the same counts and average as counting the rows");
  t.same(tasks.countByStatus(), allFromRows(store.db, "tasks"));
  tasks.insert(newTask("new", "s1", null, 99_999), "pending");
  t.equal(tasks.swarmSummary("s1").counts.pending, before.counts.pending + 1, "and tasks added since are counted");
  t.same(new AgentRepo(store.db, new Revision()).countsIn("s1"), agentsBefore, "agents too");
});

t.test("the queries the daemon runs on tasks, assignments and agents find their rows by index, never by reading the history", async (t) => {
  const store = await openStore(join(tempDir(t), "swarmd.db"), { synchronous: "normal" });
  t.teardown(() => store.close());
  const tasks = new TaskRepo(store.db);
  const revision = new Revision();
  const assignments = new AssignmentRepo(store.db, revision);
  const agents = new AgentRepo(store.db, revision);
  addSwarm(store.db, "s1");
  addAgent(agents, "a1", "s1", agents.nextSeq("s1"));
  addAgent(agents, "a2", "s1", agents.nextSeq("s1"));
  agents.get("a1");
  for (const scope of ["members", "terminated"] as const) {
    agents.inSwarm("s1", scope);
    agents.inActiveSwarms(scope);
  }
  agents.countsIn("s1");
  agents.countLive();
  agents.countLive("s1");
  agents.setStatus("a1", "busy", 1);
  agents.setRuntime("a1", { kind: "worker" }, "idle", 2);
  agents.recordFinish("a1", "c", 10, 5, 3);
  agents.touch("a1", 4);
  agents.countByStatus();
  agents.terminate("a2", "done", 5);
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
  tasks.oldest(0, 256);
  tasks.swarmHasTasks("s1");
  agents.idsInSwarm("s1", 128);
  tasks.phasesOf(["t1"]);
  assignments.deleteOfTasks(["t1", "t2"]);
  tasks.delete(["t1", "t2"]);
  agents.delete(["a2"]);

  const statements = [...tasks.sql.prepared(), ...assignments.sql.prepared(), ...agents.sql.prepared()];
  t.ok(statements.length >= 45, `${statements.length} statements checked`);
  for (const sql of statements) {
    const names = [...new Set([...sql.matchAll(/@(\w+)/g)].map((m) => m[1] as string))];
    const explain = store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
    const plan = (names.length > 0 ? explain.all(Object.fromEntries(names.map((n) => [n, null]))) : explain.all(...(sql.match(/\?/g) ?? []).map(() => null))) as Array<{ detail: string }>;
    // A walk along an index that stops at LIMIT is fine; reading a whole table, or searching it without an index, is not.
    // The tables by name, or by the aliases the joins give them.
    const reads = plan.map((r) => r.detail).filter((d) => /^(SCAN|SEARCH) (tasks|assignments|agents|t|a)\b/.test(d));
    const unindexed = reads.filter((d) => (d.startsWith("SCAN") && !(/ LIMIT /.test(sql) && / USING (COVERING )?INDEX /.test(d))) || !/ USING /.test(d));
    // Seeking a swarm's rows and filtering their status reads everything the swarm ever had.
    const swarmOnly = /\bstatus (IN \(|= )/.test(sql) ? reads.filter((d) => /INDEX \w+ \(swarm_id=\?\)$/.test(d)) : [];
    t.same([...unindexed, ...swarmOnly], [], sql.replace(/\s+/g, " ").slice(0, 140));
  }
});

t.test("a daemon started on an older database says it upgraded it, and how long that took", async (t) => {
  const path = join(tempDir(t), "swarmd.db");
  const old = new Database(path);
  for (const m of migrations.filter((m) => m.version <= 2)) old.exec(m.sql);
  old.pragma("user_version = 2");
  old.close();
  const d = await spawnListening(t, ["--db", path]);
  const line = d.logs.find((l) => /^database schema upgraded from version 2 to 3 in \d+ ms$/.test(String(l.msg)));
  t.match(line, { level: 30, from: 2, to: 3, db: path });
  const again = await spawnListening(t, ["--db", join(tempDir(t), "new.db")]);
  t.notOk(again.logs.some((l) => /schema upgraded/.test(String(l.msg))), "a new database is not called upgraded");
});
