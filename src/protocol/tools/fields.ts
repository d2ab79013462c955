import { z } from "zod";

// Field shapes the tool contracts share. Descriptions go last so they land on the property, not inside an anyOf.

export const count = (what: string) => z.number().int().describe(what);
export const ms = (what: string) => z.number().int().describe(what);
export const msOrNull = (what: string) => z.number().int().nullable().describe(what);
export const fractionOrNull = (what: string) => z.number().min(0).max(1).nullable().describe(what);
export const percentOrNull = (what: string) => z.number().min(0).nullable().describe(what);
