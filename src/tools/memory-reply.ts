import { toEntry } from "../memory/manager.js";
import type { ToolPayload } from "../protocol/contract.js";
import { Serialized } from "../protocol/serialized.js";
import type { memoryRetrieve } from "../protocol/tools/memory.js";
import type { MemoryRow } from "../store/memory-repo.js";

type Retrieved = ToolPayload<typeof memoryRetrieve>;

/**
 * memory_retrieve's payload text per row object. The repository hands out the same object for as long as the row is
 * cached and unchanged, so a key read again and again is serialised once; a replaced row is a new object and the old
 * text goes with the old object.
 */
const texts = new WeakMap<MemoryRow, Serialized<Retrieved>>();

/**
 * The payload of a found entry — the entry's fields, its value, `found: true` — with the value spliced in as the JSON
 * text it was stored as (the daemon wrote it with JSON.stringify), so it is never parsed or serialised again here.
 */
export function retrievedText(row: MemoryRow): Serialized<Retrieved> {
  let text = texts.get(row);
  if (text === undefined) {
    const { value, ...meta } = row;
    const json = `${JSON.stringify(toEntry(meta)).slice(0, -1)},"value":${value},"found":true}`;
    text = new Serialized<Retrieved>([json], [JSON.stringify(json)]);
    texts.set(row, text);
  }
  return text;
}
