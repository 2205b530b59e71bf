#Requires -Version 5.1
#Requires -RunAsAdministrator
# Stop the TradingSystem services in reverse order: API Gateway, DataCapture, Analytics.
# Each host is asked to flush and exit (CTRL_BREAK) and killed only after its stop timeout.
# Elevated PowerShell 5.1 or later.
$ErrorActionPreference = "Stop"
$order = @("TradingSystem-Gateway", "TradingSystem-DataCapture", "TradingSystem-Analytics")
foreach ($name in $order) {
    $service = Get-Service -Name $name -ErrorAction SilentlyContinue
    if ($null -eq $service) { Write-Host "$name is not installed"; continue }
    if ($service.Status -ne "Stopped") {
        Write-Host "stopping $name ..."
        Stop-Service -Name $name
        $service.WaitForStatus("Stopped", [TimeSpan]::FromSeconds(90))
    }
    Write-Host "$name is stopped"
}
