// cdktf must never call home from tests; terraform reads no user CLI config.
process.env.CHECKPOINT_DISABLE = '1';
process.env.TF_CLI_CONFIG_FILE = process.env.TF_CLI_CONFIG_FILE || '/dev/null';
