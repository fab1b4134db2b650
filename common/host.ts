// How a host is written next to a port: an IPv6 address in brackets, in messages, URLs and records alike.

/**
 * `2001:db8::1` → `[2001:db8::1]`; a host name or IPv4 address as it is. Host names and IPv4 addresses
 * hold no `:`, so a colon is what tells an IPv6 address (with or without a zone) apart.
 */
export function bracketHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** `192.0.2.1:21`, `[2001:db8::1]:21`; without a port `192.0.2.1` or `[2001:db8::1]`. */
export function formatHostPort(host: string, port?: number): string {
  const h = bracketHost(host);
  return port === undefined ? h : `${h}:${port}`;
}
