import { readFileSync } from "node:fs";

export interface SystemAccount {
  name: string;
  uid: number;
  gid: number;
}

/** A user from /etc/passwd, e.g. the `turnserver` account Debian's coturn package creates. */
export function systemAccount(name: string, passwd = "/etc/passwd"): SystemAccount {
  for (const line of readFileSync(passwd, "utf8").split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user === name) return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new Error(`no user ${name} in ${passwd}: is the coturn package installed?`);
}
