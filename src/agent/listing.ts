import { escapeJsonText, joinBytes, jsonTemplate, type Piece } from "../protocol/serialized.js";
import type { AgentRow, AgentScope } from "../store/agent-repo.js";
import type { AssignmentRow } from "../store/assignment-repo.js";
import type { Revision } from "../store/revision.js";
import type { WorkerUsage } from "../protocol/tools/views.js";
import { LIVE_FIELDS, activityAt, ageAt, liveValues, shownUsage, type AgentView, type WorkerInfo } from "./view.js";

/** One agent as the listing keeps it: what its live fields are computed from, and its text with the last ones seen. */
interface Listed {
  readonly row: AgentRow;
  readonly active: readonly AssignmentRow[];
  /** Its worker, whose usage reports change the view without changing a row. */
  readonly worker: WorkerInfo | undefined;
  /** The view's JSON cut at LIVE_FIELDS, as UTF-8. */
  readonly parts: readonly Buffer[];
  /** The same parts escaped, for the copy of the payload inside the result's text content. */
  readonly escaped: readonly Buffer[];
  /** What the texts below were filled in with (NaN and undefined before the first fill). */
  age: number;
  activity: number;
  usage: WorkerUsage | null | undefined;
  /** The whole view, and the whole view escaped, with those live fields. */
  text: Buffer;
  escapedText: Buffer;
  /** Moves each time the texts are filled in again. */
  version: number;
}

/**
 * A listing's agents as a JSON array, twice: as UTF-8 JSON, and escaped as the inside of a JSON string. Each is given
 * in pieces, written one after another: a thousand agents are a megabyte, and copying it into one buffer on every
 * poll cost more than anything else agent_list did.
 */
export interface ListingText {
  readonly json: readonly Buffer[];
  readonly escaped: readonly Buffer[];
  readonly count: number;
}

/** Which agents a listing keeps, of the scope read (members or terminated); the name keys the cache. */
export interface ListingFilter {
  readonly name: string;
  readonly scope: AgentScope;
  readonly keep: (row: AgentRow) => boolean;
}

/** Consecutive agents of a listing, their texts joined; valid while its members' versions add up to `versions`. */
interface Block {
  readonly members: readonly Listed[];
  versions: number;
  json: Buffer;
  escaped: Buffer;
}

/**
 * The agents with what their views are made of. A worker binds or unbinds only with a write to its agent's row
 * (attach sets the runtime, detach the status), so the worker given here stays the agent's until the revision moves.
 */
export type ListingSource = (
  swarmId: string | undefined,
  withMetadata: boolean,
  scope: AgentScope,
) => Array<{ row: AgentRow; active: readonly AssignmentRow[]; worker: WorkerInfo | undefined; view: AgentView }>;

/** Agents a block holds: small enough that refilling one agent's block is cheap, large enough to keep writes few. */
const BLOCK = 64;
const OPEN = Buffer.from("[");
const COMMA = Buffer.from(",");
const CLOSE = Buffer.from("]");

/**
 * agent_list without the per-call cost of reading, viewing, serialising and escaping every agent: the views' text is
 * kept until agent, assignment or swarm rows change (the revision moves), and only the time fields (age, activity
 * level) are computed on each call. Dashboards poll a thousand agents several times a second; this is what they hit.
 * Agents spawned over a second tick their ages at different milliseconds, so almost every poll finds some agent
 * changed; only that agent's text, and the block of agents holding it, are made again.
 */
export class AgentListing {
  private seen = -1;
  private readonly cache = new Map<string, Listed[]>();
  private readonly blocks = new Map<string, Block[]>();

  constructor(
    private readonly revision: Revision,
    private readonly source: ListingSource,
  ) {}

  /** The agents the filter keeps, in the source's order, with their live fields at `now`. */
  text(swarmId: string | undefined, withMetadata: boolean, filter: ListingFilter, now: number): ListingText {
    const key = `${swarmId ?? ""}\n${withMetadata}\n${filter.scope}`;
    const listed = this.entries(key, swarmId, withMetadata, filter.scope);
    let blocks = this.blocks.get(`${key}\n${filter.name}`);
    if (blocks === undefined) {
      const kept = listed.filter((e) => filter.keep(e.row));
      blocks = [];
      for (let i = 0; i < kept.length; i += BLOCK) blocks.push({ members: kept.slice(i, i + BLOCK), versions: -1, json: OPEN, escaped: OPEN });
      this.blocks.set(`${key}\n${filter.name}`, blocks);
    }
    const json: Buffer[] = [OPEN];
    const escaped: Buffer[] = [OPEN];
    let count = 0;
    for (const block of blocks) {
      let versions = 0;
      for (const e of block.members) {
        refill(e, now);
        versions += e.version;
      }
      if (versions !== block.versions) {
        block.json = joinWithCommas(block.members.map((e) => e.text));
        block.escaped = joinWithCommas(block.members.map((e) => e.escapedText));
        block.versions = versions;
      }
      if (count > 0) json.push(COMMA), escaped.push(COMMA);
      json.push(block.json);
      escaped.push(block.escaped);
      count += block.members.length;
    }
    json.push(CLOSE);
    escaped.push(CLOSE);
    return { json, escaped, count };
  }

  private entries(key: string, swarmId: string | undefined, withMetadata: boolean, scope: AgentScope): Listed[] {
    if (this.revision.value !== this.seen) {
      this.cache.clear();
      this.blocks.clear();
      this.seen = this.revision.value;
    }
    let listed = this.cache.get(key);
    if (listed === undefined) {
      listed = this.source(swarmId, withMetadata, scope).map(({ row, active, worker, view }): Listed => {
        const parts = jsonTemplate(view, LIVE_FIELDS);
        return {
          row,
          active,
          worker,
          parts: parts.map((p) => Buffer.from(p)),
          escaped: parts.map((p) => Buffer.from(escapeJsonText(p))),
          age: NaN,
          activity: NaN,
          usage: undefined,
          text: OPEN,
          escapedText: OPEN,
          version: 0,
        };
      });
      this.cache.set(key, listed);
    }
    return listed;
  }
}

/** Fills an agent's texts in again if its live fields at `now` differ from those they hold. */
function refill(e: Listed, now: number): void {
  const age = ageAt(e.row, now);
  const activity = activityAt(e.row, e.active, now);
  const usage = shownUsage(e.worker, now);
  if (age === e.age && Object.is(activity, e.activity) && usage === e.usage) return;
  const values = liveValues(age, activity, usage).map((v) => JSON.stringify(v));
  e.text = joinBytes(interleave(e.parts, values));
  e.escapedText = joinBytes(interleave(e.escaped, values.map(escapeJsonText)));
  e.age = age;
  e.activity = activity;
  e.usage = usage;
  e.version++;
}

function joinWithCommas(texts: readonly Buffer[]): Buffer {
  const pieces: Buffer[] = [];
  for (const text of texts) {
    if (pieces.length > 0) pieces.push(COMMA);
    pieces.push(text);
  }
  return joinBytes(pieces);
}

/** parts[0] values[0] parts[1] values[1] … parts[n]: a view's text with its live fields filled in. */
function interleave(parts: readonly Buffer[], values: readonly string[]): Piece[] {
  const pieces: Piece[] = [parts[0] as Buffer];
  for (let i = 0; i < values.length; i++) pieces.push(values[i] as string, parts[i + 1] as Buffer);
  return pieces;
}
