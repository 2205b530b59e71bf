# Stop and unregister the TradingSystem services (elevated PowerShell 5.1 or later).
$ErrorActionPreference = "Stop"
$tradingcore = Join-Path $PSScriptRoot "..\..\.venv\Scripts\tradingcore.exe"
& $tradingcore service remove
exit $LASTEXITCODE
