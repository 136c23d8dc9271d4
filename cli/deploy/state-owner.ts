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
import * as path from 'path';
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

/**
 * Notes (not refusals) for selected stacks that have no state under this fleet's ID while a state of the same
 * stack name exists under another fleet ID: another fleet's (then deploying is right), or this fleet's from
 * before its derived ID changed (a local fleet's ID comes from its cluster names). Only the user can tell.
 */
export function otherFleetStateNotes(
  fleet: Pick<Fleet, 'id' | 'backend'>,
  selected: readonly string[],
  filesInStateDir: readonly string[],
  projectRoot: string,
): string[] {
  if (fleet.backend.type !== 'local') return [];
  const notes: string[] = [];
  for (const stack of selected) {
    if (filesInStateDir.includes(localStateFileName(stack, fleet.id))) continue;
    const others = filesInStateDir.filter((f) => f.endsWith(`.${stack}.tfstate`) && /^terraform\.fleet-[0-9a-f]{12}\./.test(f) && f.split('.').length === 4);
    for (const other of others) {
      const otherId = other.split('.')[1];
      notes.push(
        `note: ${stack} has no state of fleet ${fleet.id} yet, and ${path.resolve(projectRoot, fleet.backend.directory ?? '.', other)} is fleet ${otherId}'s. If that is this fleet from before its ID changed (a local fleet's ID is derived from its cluster names), stop and set fleetId: ${otherId} in the fleet file; if it is another fleet, this deploy starts ${stack}'s own state.`,
      );
    }
  }
  return notes;
}
