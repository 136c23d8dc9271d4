/**
 * Issue 30, item 1, with the real aws provider against the emulator: the cluster stack reads the pinned
 * release's image_version from its public parameter at plan time. The emulator serves no
 * /aws/service/bottlerocket/... parameters (and refuses to store any under /aws/), so the plan fails, and it
 * must fail with the postcondition's message naming release, variant and architecture, not the provider's
 * bare "couldn't find resource" (why the lookup is by path: modules/eks/bottlerocket-image-version.ts).
 */
import { DEFAULT_FLEET, synthFleetFile, tempDir } from '../helpers/fleet';
import { describeWithRealTools, emulatorEnv, Moto, sharedMoto, terraformEnv } from '../helpers/real-tools';
import { prepareForPlanning } from '../helpers/terraform-plan';
import { runTerraform } from '../helpers/terraform-offline';

describeWithRealTools('the system node group release lookup against the emulator', () => {
  let moto: Moto | undefined;
  beforeAll(async () => {
    moto = await sharedMoto();
  }, 60_000);
  afterAll(async () => moto?.stop());

  test('a release without a public parameter fails the plan naming release, variant and architecture', async () => {
    const stack = synthFleetFile(DEFAULT_FLEET)['my-cluster-cluster'];
    const dir = tempDir('release-lookup-');
    const env = terraformEnv(dir, emulatorEnv(moto!.endpoint));
    await prepareForPlanning(stack, dir, env);
    const plan = await runTerraform(['plan', '-input=false', '-no-color'], dir, env);
    expect(plan.code).not.toBe(0);
    const output = `${plan.stdout}${plan.stderr}`.replace(/[│╷╵]/g, ' ').replace(/\s+/g, ' '); // Terraform wraps its diagnostics in a box
    expect(output).toContain('Resource postcondition failed');
    expect(output).toContain(
      'Bottlerocket 1.55.0 has no aws-k8s-1.35 build for x86_64: the public parameter /aws/service/bottlerocket/aws-k8s-1.35/x86_64/1.55.0/image_version does not exist in this region',
    );
    expect(output).not.toContain("couldn't find resource");
  }, 300_000);
});
