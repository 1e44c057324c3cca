// The presenter's addresses on the venue's network, best first: the one the
// join command shows, and the others in case attendees cannot reach it.
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

// Interfaces of containers, virtual machines and VPNs: not where the room sits.
const VIRTUAL =
  /^(docker|br-|veth|virbr|vmnet|vboxnet|vethernet|utun|tun|tap|zt|tailscale|wg|lxc|cni|flannel)/i;

const isPrivate = (a: string) => /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(a);

/** IPv4 addresses other machines may reach this one at, best first. */
export function lanAddresses(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const found: { address: string; rank: number }[] = [];
  for (const [name, infos] of Object.entries(interfaces)) {
    for (const info of infos ?? []) {
      if (info.family !== 'IPv4' || info.internal || info.address.startsWith('169.254.')) continue;
      const rank = (VIRTUAL.test(name) ? 2 : 0) + (isPrivate(info.address) ? 0 : 1);
      found.push({ address: info.address, rank });
    }
  }
  return found.sort((a, b) => a.rank - b.rank).map((f) => f.address);
}
