/**
 * Where a stack's local state lives (backend `local`): `terraform.<fleet ID>.<stack>.tfstate` in the project
 * root or the backend's `directory`. The fleet ID is in the name because stack names are not unique across
 * fleets: two fleets with an `image-cache-general` stack shared one state file, and planning one fleet then
 * planned to destroy the other's resources (issue 28). Pure: the stacks and `deploy` both use it.
 */
import * as path from 'path';

/** The state file's name for a stack of a fleet. */
export function localStateFileName(stackName: string, fleetId: string): string {
  return `terraform.${fleetId}.${stackName}.tfstate`;
}

/** The name before issue 28 (no fleet ID): `deploy` looks for it, so state is moved rather than started anew. */
export function legacyLocalStateFileName(stackName: string): string {
  return `terraform.${stackName}.tfstate`;
}

/**
 * The backend's `path`, as Terraform resolves it from the stack's working directory (cdktf.out/stacks/<stack>/):
 * relative to the project root, three levels up, unless `directory` is absolute. A fixed relative path keeps the
 * synthesized output the same on every machine.
 */
export function localStateBackendPath(stackName: string, fleetId: string, directory?: string): string {
  const file = localStateFileName(stackName, fleetId);
  if (directory && path.isAbsolute(directory)) return path.join(directory, file);
  return path.posix.join('../../..', directory ?? '.', file);
}

/** The state file on disk, for a command run from the project root (`deploy`). */
export function localStateFile(fileName: string, projectRoot: string, directory?: string): string {
  return path.resolve(projectRoot, directory ?? '.', fileName);
}
