// cdktf must never call home from tests; terraform reads no user CLI config.
process.env.CHECKPOINT_DISABLE = '1';
process.env.TF_CLI_CONFIG_FILE = process.env.TF_CLI_CONFIG_FILE || '/dev/null';
// The EKS support checks (modules/fleet/eks-support.ts) depend on the date: tests pin it, so a fixture on an
// old Kubernetes version does not start failing the day its support ends. eks-support tests pass their own dates.
process.env.BOTTLEROCKET_FLEET_TODAY = '2026-11-25';
// Tests run on Node 20 here: the AWS SDK's 9-line NodeVersionSupportWarning (and the CLI's one line, which the same
// variable turns off: cli/shared/node-version.ts) would repeat in every suite. __tests__/node-version.test.ts unsets it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// cdktf records where every token was created (tokens/private/stack-trace.js, called by each Intrinsic and Lazy: thousands
// per synth) and reads the trace at once. Under jest every stack is formatted by jest's source-map support (installed on the
// worker's own Error, which Node consults for errors of the test's realm too), which maps each frame through cdktf's inline
// source maps: about a tenth of a synthesizing suite's CPU. The trace appears only in cdktf's token errors; here it keeps
// V8's own frames (compiled .js positions, not the .ts lines). Errors and their stacks are mapped as before.
const cdktfTrace = require('cdktf/lib/tokens/private/stack-trace');
const captureWithMapping = cdktfTrace.captureStackTrace;
const v8Frames = (error, frames) => `Error${frames.map((frame) => `\n    at ${frame}`).join('')}`;
cdktfTrace.captureStackTrace = function captureStackTrace(below) {
  const formatter = Error.prepareStackTrace;
  Error.prepareStackTrace = v8Frames;
  try {
    return captureWithMapping(below || captureStackTrace);
  } finally {
    Error.prepareStackTrace = formatter;
  }
};
