import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** Loopback, private, link-local, shared, multicast and unspecified ranges: never a receiver's by default. */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

/** Whether an address is loopback, private, link-local or otherwise not a public receiver's. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class RefusedDestination extends Error {}

/**
 * Resolves a receiver's host to every address it names, refusing private ones unless allowed. Used
 * when an endpoint is saved and again for each delivery's connection, so a name that later resolves
 * to an internal address (DNS rebinding) is refused at the moment it would be reached.
 */
export function resolveReceiver(host: string, allowPrivate: boolean): Promise<LookupAddress[]> {
  return new Promise((done, fail) => {
    dnsLookup(host.replace(/^\[|\]$/g, ''), { all: true, verbatim: true }, (error, addresses) => {
      if (error) return fail(new RefusedDestination(`${host} does not resolve (${error.code ?? error.message})`));
      if (addresses.length === 0) return fail(new RefusedDestination(`${host} does not resolve`));
      const bad = addresses.find((a) => isPrivateAddress(a.address));
      if (bad && !allowPrivate) {
        return fail(
          new RefusedDestination(
            `${host} resolves to ${bad.address}, a loopback, private or link-local address (LEEWAY_WEBHOOK_ALLOW_PRIVATE=true allows these)`,
          ),
        );
      }
      done(addresses);
    });
  });
}

/** A lookup for node:http that connects only to addresses resolveReceiver allows. */
export function guardedLookup(allowPrivate: boolean) {
  return (
    host: string,
    options: { all?: boolean },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    resolveReceiver(host, allowPrivate).then(
      (addresses) =>
        options.all ? callback(null, addresses) : callback(null, addresses[0].address, addresses[0].family),
      (error: Error) => callback(error, ''),
    );
  };
}
