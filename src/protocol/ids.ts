import { customAlphabet } from "nanoid";

/** Lowercase base36, as in `swarm_1757880683494_yl81sece5`. */
const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
const suffix9 = customAlphabet(alphabet, 9);
const suffix6 = customAlphabet(alphabet, 6);

export type IdKind = "swarm" | "agent" | "task" | "msg" | "asg";

const suffixes: Record<IdKind, () => string> = {
  swarm: suffix9,
  agent: suffix6,
  task: suffix6,
  msg: suffix6,
  asg: suffix6,
};

/** `<kind>_<ms since epoch>_<random base36>`; uniqueness is enforced by the database key, not by luck. */
export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  return `${kind}_${nowMs}_${suffixes[kind]()}`;
}
