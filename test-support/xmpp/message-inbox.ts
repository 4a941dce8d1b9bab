export interface ReceivedMessage {
  from: string;
  to: string;
  type: string;
  body: string;
}

/** What a session received, each item handed to the first waiter that wants it, or kept until one does. */
export class Inbox<T> {
  private readonly unclaimed: T[] = [];
  private readonly waiters = new Set<{ accepts: (item: T) => boolean; resolve: (item: T) => void }>();

  /** `noun`: what the items are, for the timeout error ("other messages received: ..."). */
  constructor(
    private readonly noun: string,
    private readonly describe: (item: T) => string,
  ) {}

  deliver(item: T): void {
    for (const waiter of this.waiters) {
      if (waiter.accepts(item)) {
        this.waiters.delete(waiter);
        waiter.resolve(item);
        return;
      }
    }
    this.unclaimed.push(item);
  }

  /** Removes and returns every item received so far (not yet consumed) that `accepts`. */
  take(accepts: (item: T) => boolean): T[] {
    const taken = this.unclaimed.filter(accepts);
    for (const item of taken) this.unclaimed.splice(this.unclaimed.indexOf(item), 1);
    return taken;
  }

  waitFor(what: string, accepts: (item: T) => boolean, timeoutMs: number, recipient: string): Promise<T> {
    const index = this.unclaimed.findIndex(accepts);
    if (index >= 0) return Promise.resolve(this.unclaimed.splice(index, 1)[0]!);

    return new Promise((resolve, reject) => {
      const waiter = {
        accepts,
        resolve: (item: T) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const others = this.unclaimed.map(this.describe).join("; ") || "none";
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what} to ${recipient}; other ${this.noun} received: ${others}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}

/** Chat messages with a body; a string match means "from this JID" (bare, or full if it has a resource). */
export class MessageInbox extends Inbox<ReceivedMessage> {
  constructor() {
    super("messages", (message) => `${message.from}: ${JSON.stringify(message.body)}`);
  }

  waitForMessage(match: string | ((message: ReceivedMessage) => boolean), timeoutMs: number, recipient: string): Promise<ReceivedMessage> {
    const accepts = typeof match === "string" ? (message: ReceivedMessage) => sameBareJid(message.from, match) : match;
    return this.waitFor(typeof match === "string" ? `a message from ${match}` : "a matching message", accepts, timeoutMs, recipient);
  }
}

function sameBareJid(a: string, b: string): boolean {
  const bare = (jid: string) => jid.split("/")[0]!.toLowerCase();
  return b.includes("/") ? a.toLowerCase() === b.toLowerCase() : bare(a) === bare(b);
}
