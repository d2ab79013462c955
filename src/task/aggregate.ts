import type { AssignmentRow } from "../store/assignment-repo.js";
import { FAILED_STATUSES } from "../store/assignment-repo.js";

export type Aggregation = "first" | "all" | "majority_vote";

export type AttemptOutcome =
  | { readonly kind: "running" }
  | { readonly kind: "completed"; readonly result: unknown }
  | { readonly kind: "failed"; readonly error: { reason: string; message: string; [key: string]: unknown }; readonly retryable: boolean };

export interface AttemptRules {
  readonly aggregation: Aggregation;
  /** Agents that each run the task. */
  readonly parallelism: number;
  /** Share of failed assignments above which the attempt fails. */
  readonly failureThreshold: number;
  /** The swarm's winning share for majority_vote. */
  readonly consensusThreshold: number;
}

/**
 * Decides an attempt from its assignments (cancelled ones excluded):
 * - it fails once failed assignments exceed failureThreshold × parallelism;
 * - first: the first completed result wins;
 * - all: once every slot finished, the completed results in assignment order;
 * - majority_vote: once every slot finished, the most common result (canonical JSON equality) wins if its share of
 *   all slots reaches consensusThreshold; otherwise the attempt fails with the tally.
 */
export function decideAttempt(rules: AttemptRules, assignments: readonly AssignmentRow[]): AttemptOutcome {
  const completed = assignments.filter((a) => a.status === "completed");
  const failed = assignments.filter((a) => FAILED_STATUSES.includes(a.status));
  const retryable = failed.every((a) => (a.error === null ? true : (JSON.parse(a.error) as { retryable?: boolean }).retryable !== false));
  if (failed.length / rules.parallelism > rules.failureThreshold) {
    const last = failed[failed.length - 1] as AssignmentRow;
    const cause = last.error === null ? {} : (JSON.parse(last.error) as { message?: string; reason?: string });
    return {
      kind: "failed",
      retryable,
      error: {
        reason: failed.every((a) => a.status === "abandoned") ? "abandoned" : failed.some((a) => a.status === "timed_out") ? "timeout" : "assignment_failed",
        message: `${failed.length} of ${rules.parallelism} assignments failed (threshold ${rules.failureThreshold}); last: ${cause.message ?? last.status}`,
        failedAssignments: failed.map((a) => a.id),
      },
    };
  }
  if (rules.aggregation === "first" && completed.length > 0) return { kind: "completed", result: resultOf(completed[0] as AssignmentRow) };
  if (completed.length + failed.length < rules.parallelism) return { kind: "running" };
  if (completed.length === 0) {
    return { kind: "failed", retryable, error: { reason: "assignment_failed", message: "No assignment completed." } };
  }
  if (rules.aggregation === "all") return { kind: "completed", result: completed.map(resultOf) };
  const votes = tally(completed);
  const winner = votes[0] as { result: unknown; count: number };
  const share = winner.count / rules.parallelism;
  if (share >= rules.consensusThreshold) return { kind: "completed", result: winner.result };
  return {
    kind: "failed",
    retryable,
    error: {
      reason: "no_consensus",
      message: `No result reached the consensus threshold ${rules.consensusThreshold}: the most common had ${winner.count} of ${rules.parallelism} votes.`,
      votes,
    },
  };
}

/** Distinct results with their vote counts, most votes first (ties: first seen first). */
export function tally(completed: readonly AssignmentRow[]): Array<{ result: unknown; count: number }> {
  const byKey = new Map<string, { result: unknown; count: number }>();
  for (const a of completed) {
    const result = resultOf(a);
    const key = canonicalJson(result);
    const entry = byKey.get(key);
    if (entry) entry.count++;
    else byKey.set(key, { result, count: 1 });
  }
  return [...byKey.values()].sort((a, b) => b.count - a.count);
}

function resultOf(a: AssignmentRow): unknown {
  return a.result === null ? null : JSON.parse(a.result);
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((k) => JSON.stringify(k) + ":" + canonicalJson((value as Record<string, unknown>)[k]));
    return "{" + entries.join(",") + "}";
  }
  return JSON.stringify(value);
}
