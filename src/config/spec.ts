import { z } from "zod";

/**
 * One daemon setting: where it comes from (an environment name from the protocol document or `SWARMD_*`, a flag),
 * its zod schema with the default, and the help line.
 */
export interface SettingSpec {
  readonly env: string;
  readonly flag: string;
  /** Placeholder for the value in --help; absent for boolean switches. */
  readonly metavar?: string;
  readonly schema: z.ZodType;
  readonly help: string;
  /** How the default reads in --help, with its unit. */
  readonly shownDefault: string;
  /** What a valid value looks like, for the one-line error. */
  readonly expect: string;
  readonly boolean?: true;
  /** Never echoed in errors (it may carry secrets). */
  readonly secret?: true;
}

export const MiB = 1024 * 1024;
export const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** Durations are given in seconds (fractions allowed), as `AGENT_TIMEOUT` is, and held in milliseconds. */
export const secondsAsMs = (defaultSeconds: number) =>
  z.coerce
    .number()
    .min(0)
    .max(24 * 3600 * 365)
    .default(defaultSeconds)
    .transform((s) => Math.round(s * 1000));
export const flag = () => z.stringbool();
export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
