/**
 * Before `cdktf deploy`: a local state the named stacks would use must belong to this fleet (issue 28). Every
 * resource the fleet creates carries the fleet tag (bottlerocket-fleet:fleet, through the providers' default
 * tags, so Terraform records it in `tags_all`); a state whose resources carry another fleet's tag is refused,
 * naming both fleets, before Terraform could plan to destroy that fleet's resources. A state still at the name
 * it had before the fleet ID was part of it is refused too, with the command that moves it: deploying would
 * otherwise start an empty state and create every resource a second time. Pure apart from `read`.
 */
import type { Fleet } from '../../modules/fleet/load';
import { FLEET_TAG } from '../../modules/image-cache/parameters';
import { legacyLocalStateFileName, localStateFile, localStateFileName } from '../../modules/fleet/state-path';

export interface StateRefusal {
  readonly stack: string;
  readonly file: string;
  readonly message: string;
}

/** Reads a file; undefined when it does not exist. */
export type ReadFile = (file: string) => string | undefined;

interface StateJson {
  readonly resources?: readonly { readonly mode?: string; readonly instances?: readonly { readonly attributes?: Record<string, unknown> }[] }[];
}

/** The fleet tag values on the managed resources of a Terraform state (v4 JSON); data sources read others' tags and are skipped. */
export function fleetTagsInState(stateText: string): string[] {
  let state: StateJson;
  try {
    state = JSON.parse(stateText) as StateJson;
  } catch {
    return [];
  }
  const tags = new Set<string>();
  for (const resource of state.resources ?? []) {
    if (resource.mode !== 'managed') continue;
    for (const instance of resource.instances ?? []) {
      const attributes = instance.attributes ?? {};
      const tagged = (attributes.tags_all ?? attributes.tags) as Record<string, unknown> | null | undefined;
      const value = tagged?.[FLEET_TAG];
      if (typeof value === 'string') tags.add(value);
    }
  }
  return [...tags].sort();
}

/** Refusals for the selected stacks' local state files; none for a fleet whose state is not local. */
export function localStateRefusals(
  fleet: Pick<Fleet, 'id' | 'file' | 'backend'>,
  selected: readonly string[],
  read: ReadFile,
  projectRoot: string,
): StateRefusal[] {
  if (fleet.backend.type !== 'local') return [];
  const directory = fleet.backend.directory;
  const refusals: StateRefusal[] = [];
  for (const stack of selected) {
    const file = localStateFile(localStateFileName(stack, fleet.id), projectRoot, directory);
    const text = read(file);
    if (text !== undefined) {
      const others = fleetTagsInState(text).filter((t) => t !== fleet.id);
      if (others.length > 0)
        refusals.push({
          stack,
          file,
          message: `${stack}: the state ${file} belongs to fleet ${others.join(', ')} (its resources are tagged ${FLEET_TAG}=${others.join(', ')}), but the fleet file ${fleet.file} is fleet ${fleet.id}. Nothing was deployed: Terraform would plan to replace or destroy the other fleet's resources. Deploy with that fleet's file, or move the state file away if it was copied here by mistake.`,
        });
      continue;
    }
    const legacy = localStateFile(legacyLocalStateFileName(stack), projectRoot, directory);
    const legacyText = read(legacy);
    if (legacyText !== undefined && fleetTagsInState(legacyText).includes(fleet.id))
      refusals.push({
        stack,
        file: legacy,
        message: `${stack}: this fleet's state (fleet ${fleet.id}) is still at ${legacy}, the name from before state files carried the fleet ID; deploying now would start an empty state at ${file} and create every resource again. Move it first: mv ${legacy} ${file}`,
      });
  }
  return refusals;
}
