/**
 * What kubelet says about the images it uses, read back from its Events. Every form below is the format
 * string of pkg/kubelet/images/image_manager.go (kubernetes/kubernetes) in the releases this project
 * supports (1.31-1.36); `<ref>` is the image exactly as the pod spec wrote it (`requestedImage` /
 * `imgRef`, not normalised).
 *
 * - reason Pulled, `Container image %q already present on machine` (EnsureImageExists, every release;
 *   from 1.33 only while the KubeletEnsureSecretPulledImages gate is off);
 * - reason Pulled, `Container image %q already present on machine and can be accessed by the pod`
 *   (1.33+, the gate on: imagePullManager.MustAttemptImagePull said no pull is needed);
 * - reason Pulled, `Successfully pulled image %q in %v (%v including waiting). Image size: %v bytes.`
 *   (pullImage; the size clause since 1.30, so in every supported release);
 * - reason Pulled, `Successfully pulled image %q in %v (%v including waiting)` (1.28-1.29, accepted for
 *   older nodes in a mixed cluster);
 * - reason Failed, `Failed to pull image %q: %v` (pullImage, a Warning);
 * - reason ErrImageNeverPull, `Container image %q is not present with pull policy of Never`.
 * `%v` of a time.Duration is Go's Duration.String(): 1h2m3.5s, 4.2s, 350ms, 12µs, 0s.
 *
 * `kubectl describe` (and some event exporters) put the event's involvedObject.fieldPath before the
 * message (`spec.containers{app}: `); it is accepted and dropped. client-go's EventCorrelator
 * (tools/record/events_cache.go, EventAggregator) replaces the message of the 11th similar event within
 * 10 minutes by `(combined from similar events): <message>`; that prefix is dropped too.
 */

export type KubeletImageEvent =
  | { readonly kind: 'present'; readonly image: string }
  | { readonly kind: 'pulled'; readonly image: string; readonly pullSeconds: number; readonly totalSeconds: number; readonly bytes?: number }
  | { readonly kind: 'failed'; readonly image: string; readonly error: string };

const FIELD_PATH_PREFIX = /^spec\.(?:initContainers|containers|ephemeralContainers)\{[^}]*\}: /;
const COMBINED_PREFIX = '(combined from similar events): ';
/** Go %q of an image reference: references never contain quotes or backslashes, so no escapes to undo. */
const Q = '"([^"]+)"';
const PRESENT = new RegExp(`^Container image ${Q} already present on machine(?: and can be accessed by the pod)?$`);
const PULLED = new RegExp(`^Successfully pulled image ${Q} in (\\S+) \\((\\S+) including waiting\\)(?:\\. Image size: (\\d+) bytes\\.)?$`);
const FAILED = new RegExp(`^Failed to pull image ${Q}: ([\\s\\S]*)$`);
const NEVER = new RegExp(`^Container image ${Q} is not present with pull policy of Never$`);

/** The message without the field-path and aggregation prefixes. */
export function bareMessage(message: string): string {
  let m = message.trim();
  if (m.startsWith(COMBINED_PREFIX)) m = m.slice(COMBINED_PREFIX.length);
  return m.replace(FIELD_PATH_PREFIX, '');
}

/** One kubelet image event, or undefined for any other message. */
export function parseKubeletImageEvent(message: string): KubeletImageEvent | undefined {
  const m = bareMessage(message);
  let x: RegExpExecArray | null;
  if ((x = PRESENT.exec(m))) return { kind: 'present', image: x[1] };
  if ((x = PULLED.exec(m))) {
    const pull = parseGoDuration(x[2]);
    const total = parseGoDuration(x[3]);
    if (pull === undefined || total === undefined) return undefined;
    return { kind: 'pulled', image: x[1], pullSeconds: pull, totalSeconds: total, ...(x[4] ? { bytes: Number(x[4]) } : {}) };
  }
  if ((x = FAILED.exec(m))) return { kind: 'failed', image: x[1], error: x[2] };
  if ((x = NEVER.exec(m))) return { kind: 'failed', image: x[1], error: 'not present with pull policy Never' };
  return undefined;
}

/** Seconds per unit, as [multiplier, divisor] so that 350ms is exactly 0.35. */
const GO_UNITS: Record<string, [number, number]> = {
  h: [3600, 1],
  m: [60, 1],
  s: [1, 1],
  ms: [1, 1e3],
  us: [1, 1e6],
  µs: [1, 1e6],
  μs: [1, 1e6],
  ns: [1, 1e9],
};

/** Seconds of a Go Duration.String() ("1m4.5s", "350ms", "0s"); undefined if it is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0s' || text === '0') return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|μs|ns|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, p) => sum + (Number(p[1]) * GO_UNITS[p[2]][0]) / GO_UNITS[p[2]][1], 0);
}
