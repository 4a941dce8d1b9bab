/** An error as one line: its name, message, errno code and XMPP condition, each once. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const condition = (error as { condition?: string }).condition;
  const label = error.name && error.name !== "Error" ? `${error.name}: ` : "";
  const detail = condition && !error.message.includes(condition) ? ` [${condition}]` : "";
  return `${label}${error.message}${code && !error.message.includes(code) ? ` (${code})` : ""}${detail}`;
}
