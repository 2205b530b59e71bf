# Register the three hosts as Windows services (run in an elevated PowerShell 5.1 or later,
# from the repository folder, after the set-up in the README).
#   TradingSystem-Analytics    automatic, restarts on failure
#   TradingSystem-DataCapture  automatic, restarts on failure, depends on Analytics
#   TradingSystem-Gateway      automatic, restarts on failure, depends on Analytics
# The services read tradingcore.toml in this folder (written with the defaults if missing).
param([string]$Config = "tradingcore.toml")
$ErrorActionPreference = "Stop"
$tradingcore = Join-Path $PSScriptRoot "..\..\.venv\Scripts\tradingcore.exe"
& $tradingcore service install --config $Config
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
Write-Host "Installed. Start them with scripts\windows\start-tradingsystem.ps1"
