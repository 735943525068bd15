// The Function App on a Flex Consumption (FC1) plan. Runtime, scale and the deployment package location are
// properties (functionAppConfig), not app settings: Flex rejects FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION,
// WEBSITE_RUN_FROM_PACKAGE, WEBSITE_CONTENT* and the like. Every connection is identity-based with the one
// user-assigned identity; no setting carries a key.
import { tagsType } from 'types.bicep'

@description('Name of the Function App (globally unique: it is the host name).')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region of the plan and the app.')
param location string

@description('Resource id of the user-assigned managed identity the app runs as.')
param identityResourceId string

@description('Client id of that identity (app settings name it so the SDKs pick it).')
param identityClientId string

@description('Name of the storage account: host, Durable hub and FuncKeyOps tables.')
param storageAccountName string

@description('Blob endpoint of the storage account.')
param blobEndpoint string

@description('Queue endpoint of the storage account (the host\'s and Durable\'s queues).')
param queueEndpoint string

@description('Table endpoint of the storage account (Storage__TableEndpoint).')
param tableEndpoint string

@description('Container in the storage account Flex deploys the package to.')
param deploymentContainerName string

@description('Key Vault URI (KeyVault__Uri).')
param keyVaultUri string

@description('Name of the Application Insights component the app reports to.')
param appInsightsName string

@description('Resource id of the Log Analytics workspace that receives the app\'s logs.')
param workspaceId string

@description('Memory of each instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('NCRONTAB (six fields) of the daily check for keys past their rotation period (Rotation__Schedule).')
param rotationSchedule string = '0 0 3 * * *'

@description('NCRONTAB (six fields) of the anomaly sweep over the audit rows (Anomalies__Schedule).')
param anomalySchedule string = '0 */5 * * * *'

@description('NCRONTAB (six fields) of the daily retention run: old audit tables, findings, rollups, baselines (Retention__Schedule).')
param retentionSchedule string = '0 0 4 * * *'

@description('Subnet the app integrates with for outbound traffic; empty for none.')
param appSubnetId string = ''

@description('Tags applied to the plan and the app.')
param tags tagsType = {}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: empty(appSubnetId) ? null : appSubnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        // The host's storage and the Durable hub (its default connection): identity-based.
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storageAccountName
        }
        // The service URIs as well as the account name, as the Flex Consumption quickstart sets them: the host, the
        // blob deployment and Durable then never derive an endpoint (sovereign clouds, private endpoints).
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: blobEndpoint
        }
        {
          name: 'AzureWebJobsStorage__queueServiceUri'
          value: queueEndpoint
        }
        {
          name: 'AzureWebJobsStorage__tableServiceUri'
          value: tableEndpoint
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        // Telemetry: the connection string names the endpoint; the authentication string makes ingestion use the
        // identity's Entra token (local auth is disabled on the component).
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identityClientId};Authorization=AAD'
        }
        // FuncKeyOps: Key Vault and Table Storage through the identity (KeyVault:ManagedIdentityClientId is the
        // library's one Azure credential, also used for ARM by the azure-openai connector).
        {
          name: 'KeyVault__Uri'
          value: keyVaultUri
        }
        {
          name: 'KeyVault__ManagedIdentityClientId'
          value: identityClientId
        }
        {
          name: 'Storage__TableEndpoint'
          value: tableEndpoint
        }
        {
          name: 'Rotation__Schedule'
          value: rotationSchedule
        }
        {
          name: 'Anomalies__Schedule'
          value: anomalySchedule
        }
        {
          name: 'Retention__Schedule'
          value: retentionSchedule
        }
      ]
    }
  }
}

// No basic (user name and password) publishing: deployments authenticate with Entra ID.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: app
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

@description('Name of the Function App.')
output name string = app.name

@description('Default host name of the Function App.')
output defaultHostName string = app.properties.defaultHostName
