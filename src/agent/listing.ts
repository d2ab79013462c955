import { escapeJsonText, joinBytes, jsonTemplate, type Piece } from "../protocol/serialized.js";
import type { AgentRow } from "../store/agent-repo.js";
import type { AssignmentRow } from "../store/assignment-repo.js";
import type { Revision } from "../store/revision.js";
import { TIME_FIELDS, timeFields, type AgentView } from "./view.js";

/** One agent as the listing keeps it: what its time fields are computed from, and its view's text around them. */
interface Listed {
  readonly row: AgentRow;
  readonly active: readonly AssignmentRow[];
  /** The view's JSON cut at TIME_FIELDS, as UTF-8. */
  readonly parts: readonly Buffer[];
  /** The same parts escaped, for the copy of the payload inside the result's text content. */
  readonly escaped: readonly Buffer[];
}

/** A listing's agents as a JSON array, twice: as UTF-8 JSON, and escaped as the inside of a JSON string. */
export interface ListingText {
  readonly json: Buffer;
  readonly escaped: Buffer;
  readonly count: number;
}

/** Which agents a listing keeps; the name keys the cache. */
export interface ListingFilter {
  readonly name: string;
  readonly keep: (row: AgentRow) => boolean;
}

/** A listing as last assembled, with the time fields it was assembled with. */
interface Assembled extends ListingText {
  readonly times: readonly number[];
}

export type ListingSource = (swarmId: string | undefined, withMetadata: boolean) => Array<{ row: AgentRow; active: readonly AssignmentRow[]; view: AgentView }>;

/**
 * agent_list without the per-call cost of reading, viewing, serialising and escaping every agent: the views' text is
 * kept until agent, assignment or swarm rows change (the revision moves), and only the time fields (age, activity
 * level) are computed on each call. Dashboards poll a thousand agents several times a second; this is what they hit.
 */
export class AgentListing {
  private seen = -1;
  private readonly cache = new Map<string, Listed[]>();
  private readonly assembled = new Map<string, Assembled>();

  constructor(
    private readonly revision: Revision,
    private readonly source: ListingSource,
  ) {}

  /**
   * The agents the filter keeps, in the source's order, with their time fields at `now`. While the rows and the time
   * fields are unchanged (age moves once a second) the bytes assembled last time are the answer.
   */
  text(swarmId: string | undefined, withMetadata: boolean, filter: ListingFilter, now: number): ListingText {
    const key = `${swarmId ?? ""}\n${withMetadata}`;
    const kept = this.entries(key, swarmId, withMetadata).filter((e) => filter.keep(e.row));
    const times: number[] = [];
    for (const e of kept) times.push(...timeFields(e.row, e.active, now));
    const last = this.assembled.get(`${key}\n${filter.name}`);
    if (last !== undefined && sameNumbers(last.times, times)) return last;
    const json: Piece[] = ["["];
    const escaped: Piece[] = ["["];
    kept.forEach((e, i) => {
      const age = JSON.stringify(times[2 * i]);
      const activity = JSON.stringify(times[2 * i + 1]);
      const sep = i === 0 ? "" : ",";
      json.push(sep, ...interleave(e.parts, age, activity));
      escaped.push(sep, ...interleave(e.escaped, age, activity));
    });
    json.push("]");
    escaped.push("]");
    const result = { json: joinBytes(json), escaped: joinBytes(escaped), count: kept.length, times };
    this.assembled.set(`${key}\n${filter.name}`, result);
    return result;
  }

  private entries(key: string, swarmId: string | undefined, withMetadata: boolean): Listed[] {
    if (this.revision.value !== this.seen) {
      this.cache.clear();
      this.assembled.clear();
      this.seen = this.revision.value;
    }
    let entries = this.cache.get(key);
    if (entries === undefined) {
      entries = this.source(swarmId, withMetadata).map(({ row, active, view }) => {
        const parts = jsonTemplate(view, TIME_FIELDS);
        if (parts.length !== TIME_FIELDS.length + 1) throw new Error("an agent view lacks a time field");
        return { row, active, parts: parts.map((p) => Buffer.from(p)), escaped: parts.map((p) => Buffer.from(escapeJsonText(p))) };
      });
      this.cache.set(key, entries);
    }
    return entries;
  }
}

/** parts[0] a parts[1] b parts[2]: a view's text with its two time fields filled in. */
function interleave(parts: readonly Buffer[], a: string, b: string): Piece[] {
  return [parts[0] as Buffer, a, parts[1] as Buffer, b, parts[2] as Buffer];
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
