/**
 * Server-side apply on one object's spec, per top-level spec field, as the API server's field manager does
 * it in miniature: an apply by manager M conflicts on a field another manager owns only when M's value
 * differs (equal values are shared ownership); a forced apply takes the field over; fields M owned and no
 * longer applies are removed when nobody else owns them. A conflict answers 409 with one cause per field,
 * in the Status format of k8s.io/apimachinery pkg/util/managedfields/internal/conflict.go (NewConflictError):
 * cause type FieldManagerConflict, message `conflict with "<manager>"`, field `.spec.<name>`.
 */
export interface SsaObject {
  spec: Record<string, unknown> | undefined;
  /** ".spec.<field>" -> the managers that own it (Apply operations). */
  owners: Map<string, Set<string>>;
}

export interface SsaConflict {
  manager: string;
  field: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The conflicts an apply would raise (empty: it may proceed). */
export function ssaConflicts(obj: SsaObject, manager: string, spec: Record<string, unknown>): SsaConflict[] {
  const current = obj.spec ?? {};
  return Object.entries(spec).flatMap(([k, v]) => {
    const field = `.spec.${k}`;
    if (same(current[k], v)) return [];
    return [...(obj.owners.get(field) ?? [])].filter((m) => m !== manager).map((m) => ({ manager: m, field }));
  });
}

/** Applies (after ssaConflicts found none, or forced). */
export function ssaApply(obj: SsaObject, manager: string, spec: Record<string, unknown>, force: boolean): void {
  const next: Record<string, unknown> = { ...(obj.spec ?? {}) };
  for (const [field, managers] of obj.owners) {
    const k = field.slice('.spec.'.length);
    if (managers.has(manager) && !(k in spec)) {
      managers.delete(manager);
      if (managers.size === 0) {
        delete next[k];
        obj.owners.delete(field);
      }
    }
  }
  for (const [k, v] of Object.entries(spec)) {
    const field = `.spec.${k}`;
    const owners = obj.owners.get(field) ?? new Set<string>();
    if (!same(next[k], v) && force) owners.clear();
    owners.add(manager);
    obj.owners.set(field, owners);
    next[k] = v;
  }
  obj.spec = next;
}

export function conflictStatus(conflicts: readonly SsaConflict[]): object {
  const message =
    conflicts.length === 1
      ? `Apply failed with 1 conflict: conflict with "${conflicts[0].manager}": ${conflicts[0].field}`
      : `Apply failed with ${conflicts.length} conflicts: ${[...new Set(conflicts.map((c) => c.manager))]
          .map(
            (m) =>
              `conflicts with "${m}":\n${conflicts
                .filter((c) => c.manager === m)
                .map((c) => `- ${c.field}`)
                .join('\n')}`,
          )
          .join('\n')}`;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Conflict',
    details: { causes: conflicts.map((c) => ({ type: 'FieldManagerConflict', message: `conflict with "${c.manager}"`, field: c.field })) },
    code: 409,
  };
}
