# Local development: apply packages/database/schema.sql to the local database, then regenerate
# the Drizzle types. Reads DATABASE_* variables from your user environment at run time.
$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
if (-not (Test-Path (Join-Path $root 'scripts/dist/sync-schema.js'))) { npm --prefix $root run build | Out-Host }
node (Join-Path $root 'scripts/dist/sync-schema.js') @args
exit $LASTEXITCODE
