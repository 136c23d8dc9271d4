/**
 * Runs once per jest run, before any worker: finds the real tools (Terraform, the provider mirror,
 * moto_server; containerd and docker-registry) and hands the result to the workers in BRF_REAL_TOOLS. Elsewhere than CI, missing tools
 * skip the real-tool suites with one visible line; under CI=true those suites fail instead.
 */
import * as fs from 'fs';
import { detectRealTools, realToolsReportFile } from './helpers/real-tools';
import { bundleCdktf, bundleClientNode } from './helpers/esm-bundles';
import { CHROMIUM_MISSING, detectChromium } from './helpers/chromium';

export default async function globalSetup(): Promise<void> {
  bundleClientNode();
  await bundleCdktf();
  const tools = detectRealTools();
  process.env.BRF_REAL_TOOLS = JSON.stringify(tools);
  process.env.BRF_REAL_TOOLS_REPORT = realToolsReportFile();
  fs.writeFileSync(process.env.BRF_REAL_TOOLS_REPORT, '');
  if (tools.missing.length > 0) {
    const how = process.env.CI === 'true' ? 'FAILING (CI=true)' : 'SKIPPED';
    process.stdout.write(`\nreal-tool tests ${how}: ${tools.missing.join('; ')}\n`);
  }
  if (tools.containerdMissing.length > 0) {
    const how = process.env.CI === 'true' ? 'FAILING (CI=true)' : 'SKIPPED';
    process.stdout.write(`\nreal-containerd tests ${how}: ${tools.containerdMissing.join('; ')}\n`);
  }
  // Headless Chromium (the HTML report's rendering test): found once, skipped or failed like the tools above.
  process.env.BRF_CHROMIUM = detectChromium() ?? '';
  if (!process.env.BRF_CHROMIUM) process.stdout.write(`\nchromium tests ${process.env.CI === 'true' ? 'FAILING (CI=true)' : 'SKIPPED'}: ${CHROMIUM_MISSING}\n`);
}
