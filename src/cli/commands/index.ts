import type { Command } from "./context.js";
import { general } from "./general.js";
import { memory } from "./memory.js";
import { monitor } from "./monitor.js";
import { swarms } from "./swarms.js";
import { tasks } from "./tasks.js";

export type { Command, CommandContext } from "./context.js";

/** Every swarmctl command, in the order --help lists them. */
export const commands: readonly Command[] = [...general, monitor, ...swarms, ...tasks, ...memory];
