export interface ReceivedMessage {
  from: string;
  to: string;
  type: string;
  body: string;
}

/** Messages a session received, each handed to the first waiter that wants it, or kept until one does. */
export class MessageInbox {
  private readonly unclaimed: ReceivedMessage[] = [];
  private readonly waiters = new Set<{ accepts: (message: ReceivedMessage) => boolean; resolve: (message: ReceivedMessage) => void }>();

  deliver(message: ReceivedMessage): void {
    for (const waiter of this.waiters) {
      if (waiter.accepts(message)) {
        this.waiters.delete(waiter);
        waiter.resolve(message);
        return;
      }
    }
    this.unclaimed.push(message);
  }

  waitFor(match: string | ((message: ReceivedMessage) => boolean), timeoutMs: number, recipient: string): Promise<ReceivedMessage> {
    const accepts = typeof match === "string" ? (message: ReceivedMessage) => sameBareJid(message.from, match) : match;
    const index = this.unclaimed.findIndex(accepts);
    if (index >= 0) return Promise.resolve(this.unclaimed.splice(index, 1)[0]!);

    const awaited = typeof match === "string" ? `a message from ${match}` : "a matching message";
    return new Promise((resolve, reject) => {
      const waiter = {
        accepts,
        resolve: (message: ReceivedMessage) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const others = this.unclaimed.map((m) => `${m.from}: ${JSON.stringify(m.body)}`).join("; ") || "none";
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${awaited} to ${recipient}; other messages received: ${others}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}

function sameBareJid(a: string, b: string): boolean {
  const bare = (jid: string) => jid.split("/")[0]!.toLowerCase();
  return b.includes("/") ? a.toLowerCase() === b.toLowerCase() : bare(a) === bare(b);
}
