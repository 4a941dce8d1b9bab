/** A Lua string literal that reads back as exactly `value`, whatever it contains. */
export function luaString(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === "\\") out += `\\${char}`;
    else if (char === "\n") out += "\\n";
    else if (code < 0x20 || code === 0x7f) out += `\\${code.toString().padStart(3, "0")}`;
    else out += char;
  }
  return `${out}"`;
}

export type LuaValue = string | number | boolean | LuaValue[] | { [key: string]: LuaValue };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Lua source for a value; arrays become sequences, objects become tables with sorted keys. */
export function luaValue(value: LuaValue): string {
  if (typeof value === "string") return luaString(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} as a Lua number`);
    return String(value);
  }
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.length === 0 ? "{}" : `{ ${value.map(luaValue).join(", ")} }`;
  const fields = Object.keys(value)
    .sort()
    .map((key) => `${IDENTIFIER.test(key) ? key : `[${luaString(key)}]`} = ${luaValue(value[key]!)}`);
  return fields.length === 0 ? "{}" : `{ ${fields.join(", ")} }`;
}

/** `name = value` lines, in the order given. */
export function luaAssignments(entries: Array<[string, LuaValue]>): string {
  return entries.map(([name, value]) => `${name} = ${luaValue(value)}`).join("\n");
}
