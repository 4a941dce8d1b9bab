import type { LuaValue } from "../lua.js";

export interface ComponentSection {
  name: string;
  module: string;
  options: Array<[string, LuaValue]>;
}

/** What one capability adds to the generated configuration. */
export interface ServiceFragment {
  global?: Array<[string, LuaValue]>;
  /** Global modules added to the image's list. */
  globalModules?: string[];
  /** Modules every VirtualHost loads on top of the image's list. */
  hostModules?: string[];
  /** Options of one hosted domain's VirtualHost. */
  hostOptions?: (domain: string) => Array<[string, LuaValue]>;
  /** Components of one hosted domain, written after its VirtualHost. */
  components?: (domain: string) => ComponentSection[];
}
