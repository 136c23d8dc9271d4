#!/usr/bin/env node
/**
 * Writes contracts/karpenter/<version>/instance-types.json from Karpenter's
 * pkg/providers/instancetype/zz_generated.vpclimits.go (the Go source on stdin), keeping per instance type
 * what the fleet checks need: the ENIs of the default network card and IPv4 addresses per ENI (Karpenter's
 * ENILimitedPods, pkg/providers/instancetype/types.go), the hypervisor and whether it is bare metal.
 *
 *   git -C <karpenter-provider-aws> show v1.14.1:pkg/providers/instancetype/zz_generated.vpclimits.go \
 *     | node scripts/instance-types-contract.js v1.14.1 <commit> > contracts/karpenter/v1.14.1/instance-types.json
 */
'use strict';

function parseLimits(go) {
  const types = {};
  // Each entry: \t"<type>": {\n ... \n\t},  (gofmt: one tab before the name, two before its fields)
  const entry = /^\t"([a-z0-9.-]+)": \{\n([\s\S]*?)\n\t\},$/gm;
  const int = (body, field) => {
    const m = new RegExp(`^\\t\\t${field}:\\s+(\\d+),$`, 'm').exec(body);
    if (!m) throw new Error(`no ${field}`);
    return Number(m[1]);
  };
  for (const [, name, body] of go.matchAll(entry)) {
    const cards = [...body.matchAll(/MaximumNetworkInterfaces:\s+(\d+),\s+NetworkCardIndex:\s+(\d+),/g)].map((m) => ({
      enis: Number(m[1]),
      index: Number(m[2]),
    }));
    const defaultCard = int(body, 'DefaultNetworkCardIndex');
    const card = cards.find((c) => c.index === defaultCard);
    if (!card) throw new Error(`${name}: no network card ${defaultCard}`);
    types[name] = {
      enis: card.enis,
      ipv4PerEni: int(body, 'IPv4PerInterface'),
      hypervisor: /Hypervisor:\s+"([a-z]*)"/.exec(body)[1],
      bareMetal: /IsBareMetal: true/.test(body),
    };
  }
  return types;
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const [version = 'v1.14.1', commit = ''] = process.argv.slice(2);
  const types = parseLimits(input);
  const expected = (input.match(/^\t"[a-z0-9.-]+": \{$/gm) || []).length;
  if (Object.keys(types).length !== expected || expected === 0) throw new Error(`parsed ${Object.keys(types).length} of ${expected} entries`);
  const out = {
    source: {
      repository: 'aws/karpenter-provider-aws',
      path: 'pkg/providers/instancetype/zz_generated.vpclimits.go',
      version,
      commit,
      generator: 'scripts/instance-types-contract.js',
    },
    maxPodsFormula: 'enis * (ipv4PerEni - 1) + 2 (Karpenter ENILimitedPods, pkg/providers/instancetype/types.go; enis of the default network card)',
    types: Object.fromEntries(Object.entries(types).sort(([a], [b]) => a.localeCompare(b))),
  };
  process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
});
