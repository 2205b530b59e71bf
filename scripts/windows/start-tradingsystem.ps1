#Requires -Version 5.1
#Requires -RunAsAdministrator
# Start the TradingSystem services in the spec's order: Analytics (its WebSocket server),
# then DataCapture, then the API Gateway. Each service reports Running only once its host
# answers its health probe, so each starts after the one before it is healthy.
# Elevated PowerShell 5.1 or later.
$ErrorActionPreference = "Stop"
$order = @("TradingSystem-Analytics", "TradingSystem-DataCapture", "TradingSystem-Gateway")
foreach ($name in $order) {
    $service = Get-Service -Name $name -ErrorAction SilentlyContinue
    if ($null -eq $service) {
        Write-Error "$name is not installed: run scripts\windows\install-services.ps1 first"
        exit 1
    }
    if ($service.Status -ne "Running") {
        Write-Host "starting $name ..."
        Start-Service -Name $name
        $service.WaitForStatus("Running", [TimeSpan]::FromSeconds(120))
    }
    Write-Host "$name is running"
}
Get-Service -Name $order | Format-Table -AutoSize Name, Status, StartType
$repository = Resolve-Path (Join-Path $PSScriptRoot "..\..")
Write-Host "dashboard: http://127.0.0.1:8000/dashboard (operator API key: $repository\data\operator-api-key.txt)"
