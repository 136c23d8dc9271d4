2026-12-07T09:50:49.780Z [INFO]  Terraform version: 1.11.4
2026-12-07T09:50:49.780Z [DEBUG] using github.com/hashicorp/go-tfe v1.70.0
2026-12-07T09:50:49.780Z [DEBUG] using github.com/hashicorp/hcl/v2 v2.23.0
2026-12-07T09:50:49.780Z [DEBUG] using github.com/hashicorp/terraform-svchost v0.1.1
2026-12-07T09:50:49.780Z [DEBUG] using github.com/zclconf/go-cty v1.16.0
2026-12-07T09:50:49.780Z [INFO]  Go runtime version: go1.23.3
2026-12-07T09:50:49.780Z [INFO]  CLI args: []string{"terraform", "plan", "-input=false", "-no-color", "-json", "-target=module.karpenter"}
2026-12-07T09:50:49.780Z [DEBUG] Attempting to open CLI config file: /root/.terraformrc
2026-12-07T09:50:49.780Z [DEBUG] File doesn't exist, but doesn't need to. Ignoring.
2026-12-07T09:50:49.780Z [DEBUG] Not reading CLI config directory because config location is overridden by environment variable
There are some problems with the CLI configuration:
╷
│ Warning: Unable to open CLI configuration file
│
│ The CLI configuration file at "/root/.terraformrc" does not exist.
╵

2026-12-07T09:50:49.780Z [DEBUG] ignoring non-existing provider search directory terraform.d/plugins
2026-12-07T09:50:49.780Z [DEBUG] ignoring non-existing provider search directory /root/.terraform.d/plugins
2026-12-07T09:50:49.780Z [DEBUG] ignoring non-existing provider search directory /root/.local/share/terraform/plugins
2026-12-07T09:50:49.780Z [DEBUG] ignoring non-existing provider search directory /usr/local/share/terraform/plugins
2026-12-07T09:50:49.780Z [DEBUG] ignoring non-existing provider search directory /usr/share/terraform/plugins
2026-12-07T09:50:49.781Z [INFO]  CLI command args: []string{"plan", "-input=false", "-no-color", "-json", "-target=module.karpenter"}
2026-12-07T09:50:49.781Z [DEBUG] checking for provisioner in "."
2026-12-07T09:50:49.781Z [DEBUG] checking for provisioner in "/usr/local/bin"
2026-12-07T09:50:49.782Z [INFO]  backend/local: starting Plan operation
Command exited with non-zero status 1
target: 0.05 wall 0.00 user 0.03 sys
