/** Loopback port checks for the lab's daemons: never take over or kill someone else's listener. */
import net from 'node:net';
import { haveCommand, run } from './proc';

/** True when we could bind host:port right now (nobody listens there). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** What `ss` says about the listener on port (best effort, for error messages). */
export async function describePortHolder(port: number): Promise<string> {
  if (!(await haveCommand('ss'))) return 'unknown process';
  try {
    const out = await run('ss', ['-Hltnp', `sport = :${port}`], { timeoutMs: 5_000 });
    return out.trim() || 'unknown process';
  } catch {
    return 'unknown process';
  }
}

/** Throws a clear error when port is taken: we never stop a process we did not start. */
export async function assertPortFree(port: number, service: string, envVar: string): Promise<void> {
  if (await portIsFree(port)) return;
  const holder = await describePortHolder(port);
  throw new Error(
    `${service}: port 127.0.0.1:${port} is already in use by a process the lab did not start (${holder}). ` +
      `Stop that process yourself, or choose another port (option or ${envVar}).`,
  );
}
