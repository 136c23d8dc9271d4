// cdktf must never call home from tests; terraform reads no user CLI config.
process.env.CHECKPOINT_DISABLE = '1';
process.env.TF_CLI_CONFIG_FILE = process.env.TF_CLI_CONFIG_FILE || '/dev/null';
// The EKS support checks (modules/fleet/eks-support.ts) depend on the date: tests pin it, so a fixture on an
// old Kubernetes version does not start failing the day its support ends. eks-support tests pass their own dates.
process.env.BOTTLEROCKET_FLEET_TODAY = '2026-11-25';
