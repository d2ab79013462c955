import type { ToolContract } from "../contract.js";
import { serverInfo } from "./server.js";

export { serverInfo };

/** Every tool swarmd serves, in the order tools/list returns them. */
export const toolContracts: readonly ToolContract[] = [serverInfo];
