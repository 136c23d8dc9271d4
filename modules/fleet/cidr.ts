/** IPv4 CIDR arithmetic for planning VPC subnets and spotting overlaps (pure, no I/O). */
export interface Ipv4Cidr {
  readonly base: number; // network address as an unsigned 32-bit integer
  readonly prefix: number;
}

export function parseCidr(text: string): Ipv4Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const addr = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((addr & mask) >>> 0 !== addr) return undefined; // host bits set: 10.0.0.1/16 is not a network
  return { base: addr, prefix };
}

export function formatCidr(c: Ipv4Cidr): string {
  const a = c.base;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${c.prefix}`;
}

/** Terraform's cidrsubnet(): the netnum-th subnet with newbits more prefix bits. */
export function cidrSubnet(c: Ipv4Cidr, newbits: number, netnum: number): Ipv4Cidr {
  const prefix = c.prefix + newbits;
  if (prefix > 32 || netnum >= 2 ** newbits) throw new Error(`cidrSubnet: ${formatCidr(c)} has no subnet ${netnum} of /${prefix}`);
  return { base: (c.base + netnum * 2 ** (32 - prefix)) >>> 0, prefix };
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefix);
  const bEnd = b.base + 2 ** (32 - b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

/**
 * Subnet plan for a new VPC: the VPC is split in 8; private subnets (where nodes run, so they get the
 * most addresses) take the first azCount eighths, public subnets (load balancers, NAT) are carved as
 * /(prefix+5) blocks out of the last eighth.
 */
export function planSubnets(vpcCidr: string, azCount: number): { privateSubnets: string[]; publicSubnets: string[] } {
  const vpc = parseCidr(vpcCidr);
  if (!vpc) throw new Error(`planSubnets: ${vpcCidr} is not a CIDR`);
  const privateSubnets = Array.from({ length: azCount }, (_, i) => formatCidr(cidrSubnet(vpc, 3, i)));
  const lastEighth = cidrSubnet(vpc, 3, 7);
  const publicSubnets = Array.from({ length: azCount }, (_, i) => formatCidr(cidrSubnet(lastEighth, 2, i)));
  return { privateSubnets, publicSubnets };
}
