/** A row of the memory table as stored. `value` is the JSON text exactly as serialised at store time. */
export interface MemoryRow {
  readonly namespace: string;
  readonly key: string;
  readonly value: string;
  readonly size: number;
  readonly tags: string | null;
  readonly version: number;
  readonly created_at: number;
  readonly updated_at: number;
  readonly expires_at: number | null;
}

export type MemoryMeta = Omit<MemoryRow, "value">;
