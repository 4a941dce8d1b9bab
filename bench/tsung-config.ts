/**
 * tsung 1.7 (Debian) scenarios: log in over STARTTLS on 5222, then close or hold the session.
 *
 * Why it looks the way it does:
 * - STARTTLS, not direct TLS: Erlang's ssl sends the address "127.0.0.1" as server name on a
 *   direct TLS connect, which Prosody answers with an unrecognized_name alert.
 * - ack="parse" with a regexp on every step: ack="local" completes on the first packet (the
 *   stream header), so the next request races the rest of the server's answer.
 * - bidi="true": tsung only upgrades to TLS on <proceed/> in a bidirectional session.
 */
export interface TsungServer {
  port: number;
}

export interface TsungLoginPlan {
  domain: string;
  /** Ports on 127.0.0.1 that all lead to the server's 5222; sessions are spread over them. */
  servers: readonly TsungServer[];
  /** CSV of `username,password` lines, one per session, used in order. */
  accountsCsvPath: string;
  users: number;
  arrivalPerSecond: number;
  /** "close": log in and log out (login rate); "hold": stay connected for this many seconds. */
  afterLogin: { kind: "close" } | { kind: "hold"; seconds: number };
  /** How long a session waits for an answer before tsung counts an error. */
  answerTimeoutMs: number;
}

export const LOGIN_TRANSACTION = "login";

export function renderTsungConfig(plan: TsungLoginPlan): string {
  // The phase ends as soon as `users` have started; a long one lets a busy launcher catch up.
  const phaseSeconds = Math.ceil(plan.users / plan.arrivalPerSecond) * 4 + 30;
  const servers = plan.servers
    .map((server) => `    <server host="127.0.0.1" port="${server.port}" type="tcp"/>`)
    .join("\n");
  const afterLogin =
    plan.afterLogin.kind === "hold"
      ? [
          `      <request><jabber type="presence:initial" ack="no_ack"/></request>`,
          `      <thinktime value="${plan.afterLogin.seconds}" random="false"/>`,
        ]
      : [];

  return `<?xml version="1.0"?>
<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">
<tsung loglevel="notice" version="1.0">
  <clients>
    <client host="localhost" use_controller_vm="true" maxusers="${Math.max(plan.users * 2, 1000)}"/>
  </clients>
  <servers>
${servers}
  </servers>
  <load>
    <arrivalphase phase="1" duration="${phaseSeconds}" unit="second">
      <users maxnumber="${plan.users}" arrivalrate="${plan.arrivalPerSecond}" unit="second"/>
    </arrivalphase>
  </load>
  <options>
    <option name="idle_timeout" value="${plan.answerTimeoutMs}"/>
    <option name="file_server" id="accounts" value="${xmlAttribute(plan.accountsCsvPath)}"/>
    <option type="ts_jabber" name="domain" value="${xmlAttribute(plan.domain)}"/>
    <option type="ts_jabber" name="userid_max" value="${plan.users}"/>
  </options>
  <sessions>
    <session bidi="true" probability="100" name="${plan.afterLogin.kind}" type="ts_jabber">
      <setdynvars sourcetype="file" fileid="accounts" delimiter="," order="iter">
        <var name="username"/>
        <var name="password"/>
      </setdynvars>
      <transaction name="${LOGIN_TRANSACTION}">
        <request subst="true"><jabber type="connect" ack="parse" regexp="stream:features"><xmpp_authenticate username="%%_username%%" passwd="%%_password%%"/></jabber></request>
        <request><jabber type="starttls" ack="bidi_ack"/></request>
        <request><jabber type="connect" ack="parse" regexp="stream:features"/></request>
        <request><jabber type="auth_sasl" ack="parse" regexp="&lt;success"/></request>
        <request><jabber type="connect" ack="parse" regexp="stream:features"/></request>
        <request><jabber type="auth_sasl_bind" ack="parse" regexp="&lt;jid"/></request>
      </transaction>
${[...afterLogin, `      <request><jabber type="close" ack="no_ack"/></request>`].join("\n")}
    </session>
  </sessions>
</tsung>
`;
}

function xmlAttribute(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");
}
