// TLS to a target addressed by IP. grpc-js (1.14.7) hands the target's host to tls.connect as
// `servername` (the SNI), also when it is an IP address, which RFC 6066 does not allow: Node 24
// warned (DEP0123) and Node 26 refuses the connection (ERR_INVALID_ARG_VALUE). grpc-js has no
// option to send no SNI, so an IP target gets a placeholder name under `.invalid` (RFC 2606:
// never a real name; a server without SNI-based routing ignores it) and the certificate is
// checked against the IP address itself, as it would have been.
import type * as grpc from '@grpc/grpc-js';
import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

/** The host of a gRPC target (`host:port`, `[v6]:port`, `dns:///host:port`, or a bare host). */
export function targetHost(target: string): string {
  const authority = target.replace(/^dns:(\/\/[^/]*)?\/?/, '').replace(/^ipv[46]:/, '');
  if (authority.startsWith('[')) return authority.slice(1, authority.indexOf(']'));
  const colons = authority.split(':').length - 1;
  return colons === 1 ? authority.slice(0, authority.indexOf(':')) : authority; // two or more: a bare IPv6 address
}

/** What a TLS channel to `target` needs beyond the trusted certificates: nothing for a host name. */
export function tlsByAddress(target: string): { channelOptions: grpc.ChannelOptions; verify: grpc.VerifyOptions } {
  const host = targetHost(target);
  if (isIP(host) === 0) return { channelOptions: {}, verify: {} };
  return {
    channelOptions: { 'grpc.ssl_target_name_override': 'ip-address.invalid' },
    // grpc-js calls this with the placeholder: the certificate must name the address instead.
    verify: { checkServerIdentity: (_placeholder: string, cert: PeerCertificate) => checkServerIdentity(host, cert) },
  };
}
