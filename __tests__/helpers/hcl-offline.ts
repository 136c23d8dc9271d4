/**
 * The HCL counterpart of terraform-offline.ts's JSON rewrite (issue 28 item 2): a stack's `cdk.tf` as
 * `npm run synth:hcl` wrote it, made runnable offline with as few changes as possible, all on the text:
 * - the backend (or cloud) block goes (init runs with -backend=false, and an S3 backend would need AWS);
 * - every registry module call points at the stub generated from contracts/ (terraform-offline.ts stubModule),
 *   after checking the stub's version satisfies the call's `version`, which is then dropped.
 * Everything else, lifecycle blocks and references included, is Terraform reading the HCL exactly as written.
 * The text is `terraform fmt` output (the synth formats it), so blocks are found by their indentation.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ModuleInterface, moduleInterfaces, satisfiesTfConstraint, stubDirName, stubModule } from './terraform-offline';

export interface OfflineHcl {
  readonly hcl: string;
  readonly stubs: Record<string, Record<string, unknown>>;
  /** Providers the stack declares (required_providers keys). */
  readonly providers: string[];
}

/** Removes a nested block `  <header> {` ... `  }` of the top-level `terraform` block. */
function withoutTerraformSubBlock(hcl: string, header: RegExp): string {
  const lines = hcl.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (header.test(lines[i])) {
      while (i < lines.length && lines[i] !== '  }') i++;
      continue;
    }
    out.push(lines[i]);
  }
  return out.join('\n');
}

export function toOfflineHcl(hcl: string, interfaces: Record<string, ModuleInterface> = moduleInterfaces()): OfflineHcl {
  let text = withoutTerraformSubBlock(hcl, /^ {2}backend "[^"]+" \{$/);
  text = withoutTerraformSubBlock(text, /^ {2}cloud \{$/);
  const stubs: Record<string, Record<string, unknown>> = {};
  const lines = text.split('\n');
  let module: string | undefined;
  let version: string | undefined;
  let source: string | undefined;
  const out: string[] = [];
  for (const line of lines) {
    const header = /^module "([^"]+)" \{$/.exec(line);
    if (header) [module, version, source] = [header[1], undefined, undefined];
    if (module && /^ {2}version\s+= "(.*)"$/.test(line)) {
      version = /"(.*)"/.exec(line)![1];
      continue;
    }
    const src = module ? /^ {2}source\s+= "(.*)"$/.exec(line) : null;
    if (src && !src[1].startsWith('./') && !src[1].startsWith('../')) {
      source = src[1];
      if (!Object.hasOwn(interfaces, source)) throw new Error(`module.${module}: no interface in contracts/ for source "${source}"`);
      const dir = stubDirName(source);
      stubs[dir] = stubModule(interfaces[source]);
      out.push(`  source = "./stubs/${dir}"`);
      continue;
    }
    if (module && line === '}') {
      if (source && version && !satisfiesTfConstraint(interfaces[source].version, version))
        throw new Error(`module.${module}: contracts/ has ${source} ${interfaces[source].version}, outside the call's version "${version}"`);
      module = undefined;
    }
    out.push(line);
  }
  const required = /^ {2}required_providers \{\n([\s\S]*?)\n {2}\}$/m.exec(text)?.[1] ?? '';
  const providers = [...required.matchAll(/^ {4}([a-z0-9_-]+) = \{$/gm)].map((m) => m[1]);
  return { hcl: out.join('\n'), stubs, providers };
}

/** Writes the offline copy of a stack's HCL into dir (cdk.tf and stubs/<module>/main.tf.json). */
export function writeOfflineHcl(hcl: string, dir: string): OfflineHcl {
  const offline = toOfflineHcl(hcl);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'cdk.tf'), offline.hcl);
  for (const [name, stub] of Object.entries(offline.stubs)) {
    fs.mkdirSync(path.join(dir, 'stubs', name), { recursive: true });
    fs.writeFileSync(path.join(dir, 'stubs', name, 'main.tf.json'), JSON.stringify(stub, null, 2));
  }
  return offline;
}

/** `terraform graph` output as node and edge lists (sorted), for comparing what two configurations would plan. */
export function parseGraph(dot: string): { nodes: string[]; edges: string[] } {
  const nodes = [...dot.matchAll(/^\s*"([^"]+)" \[label=/gm)].map((m) => m[1]).sort();
  const edges = [...dot.matchAll(/^\s*"([^"]+)" -> "([^"]+)";$/gm)].map((m) => `${m[1]} -> ${m[2]}`).sort();
  return { nodes, edges };
}
