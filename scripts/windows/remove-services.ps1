#Requires -Version 5.1
#Requires -RunAsAdministrator
# Stop and unregister the TradingSystem services (elevated PowerShell 5.1 or later).
$ErrorActionPreference = "Stop"
$repository = Resolve-Path (Join-Path $PSScriptRoot "..\..")
$tradingcore = Join-Path $repository ".venv\Scripts\tradingcore.exe"
Push-Location $repository
try {
    & $tradingcore service remove
    $code = $LASTEXITCODE
} finally {
    Pop-Location
}
exit $code
