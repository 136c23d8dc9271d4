/** A module with state of its own: __tests__/test-tier.test.ts checks that each module registry runs it afresh. */
let calls = 0;

/** How many times this copy of the module was called, this call included. */
export function count(): number {
  calls += 1;
  return calls;
}
