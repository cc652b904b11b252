// Go-style listen addresses: `:8427`, `127.0.0.1:8427`, `[::1]:8427`, `localhost:8427`.
export interface ListenAddress { readonly host: string | undefined; readonly port: number; readonly text: string }

export function parseListenAddress(text: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (m === null || port > 65535) throw new Error(`invalid listen address ${JSON.stringify(text)}; expected host:port, :port or [ipv6]:port`);
  const host = m[1] ?? (m[2] === '' ? undefined : m[2]);
  return { host, port, text };
}
