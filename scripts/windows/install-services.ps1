#Requires -Version 5.1
#Requires -RunAsAdministrator
# Register the three hosts as Windows services (elevated PowerShell 5.1 or later, after the
# set-up in the README; it runs from any folder: the services work in the repository folder).
#   TradingSystem-Analytics    automatic, restarts on failure
#   TradingSystem-DataCapture  automatic, restarts on failure, depends on Analytics
#   TradingSystem-Gateway      automatic, restarts on failure, depends on Analytics
# The services read -Config (relative to the repository folder; written with the defaults if
# missing) and keep data\ and the logs there.
# PowerShell runs no script by default: `Set-ExecutionPolicy -Scope Process Bypass` first.
param([string]$Config = "tradingcore.toml")
$ErrorActionPreference = "Stop"
$repository = Resolve-Path (Join-Path $PSScriptRoot "..\..")
$tradingcore = Join-Path $repository ".venv\Scripts\tradingcore.exe"
if (-not (Test-Path $tradingcore)) {
    Write-Error "$tradingcore not found: run the README's Windows set-up first"
    exit 1
}
Push-Location $repository  # `service install` takes the current folder as the services' own
try {
    & $tradingcore service install --config $Config
    $code = $LASTEXITCODE
} finally {
    Pop-Location
}
if ($code -ne 0) { exit $code }
Write-Host "Installed. Start them with scripts\windows\start-tradingsystem.ps1"
