/**
 * The app validates Karpenter manifests with validators generated from contracts/karpenter/<version>/
 * (scripts/crd-artifacts.ts), so it neither parses the CRD YAML nor compiles JSON Schema at start-up.
 * These tests keep the committed files in step with the contracts and prove they still reject what the
 * CRDs reject.
 */
import * as fs from 'fs';
import { crdArtifacts, RULES_FILE, VALIDATORS_FILE } from '../scripts/crd-artifacts';
import { knownKinds, validateAgainstCrd } from '../modules/karpenter/crd-validation';

describe('generated CRD validators', () => {
  const fresh = crdArtifacts();

  test('the committed validators are what the contracts generate (else: npm run generate:crds)', () => {
    expect(fs.readFileSync(VALIDATORS_FILE, 'utf8') === fresh.validatorsJs).toBe(true);
  });

  test('the committed CEL rule tree is what the contracts generate (else: npm run generate:crds)', () => {
    expect(fs.readFileSync(RULES_FILE, 'utf8')).toBe(fresh.rulesJson);
  });

  test('every served Karpenter v1 kind has a validator', () => {
    expect(knownKinds().sort()).toEqual(['karpenter.k8s.aws/v1/EC2NodeClass', 'karpenter.sh/v1/NodeClaim', 'karpenter.sh/v1/NodePool']);
  });

  test('the generated schema still rejects unknown fields and the CEL rules still run', () => {
    const result = validateAgainstCrd({
      apiVersion: 'karpenter.sh/v1',
      kind: 'NodePool',
      metadata: { name: 'x' },
      spec: {
        template: {
          spec: {
            nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'x' },
            requirements: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [] }],
            bogus: true,
          },
        },
      },
    });
    expect(result.errors.join('\n')).toMatch(/NodePool\/x spec\.template\.spec: unknown field "bogus"/);
    // Two CEL rules (x-kubernetes-validations), not expressible in the JSON Schema part:
    expect(result.errors).toContain("NodePool/x spec.template.spec.requirements: requirements with operator 'In' must have a value defined");
    expect(result.errors).toContain('NodePool/x spec.template.spec.requirements[0].key: label "kubernetes.io/hostname" is restricted');
  });
});
