# Apply packages/database/schema.sql to the Azure sandbox (no types).
# Reads PG_SANDBOX_HOST, PG_SANDBOX_USER and PG_SANDBOX_PASSWORD from your user environment at run time.
$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
if (-not (Test-Path (Join-Path $root 'scripts/dist/apply-schema-sandbox.js'))) { npm --prefix $root run build | Out-Host }
node (Join-Path $root 'scripts/dist/apply-schema-sandbox.js') @args
exit $LASTEXITCODE
