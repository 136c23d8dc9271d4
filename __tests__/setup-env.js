// cdktf must never call home from tests; terraform reads no user CLI config.
process.env.CHECKPOINT_DISABLE = '1';
process.env.TF_CLI_CONFIG_FILE = process.env.TF_CLI_CONFIG_FILE || '/dev/null';
// The EKS support checks (modules/fleet/eks-support.ts) depend on the date: tests pin it, so a fixture on an
// old Kubernetes version does not start failing the day its support ends. eks-support tests pass their own dates.
process.env.BOTTLEROCKET_FLEET_TODAY = '2026-11-25';
// Tests run on Node 20 here: the AWS SDK's 9-line NodeVersionSupportWarning (and the CLI's one line, which the same
// variable turns off: cli/shared/node-version.ts) would repeat in every suite. __tests__/node-version.test.ts unsets it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
