// The one storage account: the Functions host (AzureWebJobsStorage), the Durable Task hub (Azure Storage backend:
// queues, tables, blob leases), FuncKeyOps' own tables and the Flex deployment package container. Shared keys are
// off, so every caller (the app, the deployment) authenticates with Entra ID.
import { tagsType } from 'types.bicep'

@description('Name of the storage account (3-24 lowercase letters and digits, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the account.')
param location string

@description('Blob container Flex Consumption deploys the app package to.')
param deploymentContainerName string

@description('Principal id of the app\'s managed identity, granted blob, queue and table data roles on this account.')
param appPrincipalId string

@description('Resource id of the Log Analytics workspace that receives the blob, queue and table logs.')
param workspaceId string

@description('True when the account is reached through private endpoints only (public network access off).')
param privateOnly bool = false

@description('Tags applied to the account.')
param tags tagsType = {}

// Storage Blob Data Owner: the host's and Durable's blob leases and the deployment package (Flex needs Owner for
// identity-based deployment storage). Queue Data Contributor: Durable's control and work-item queues. Table Data
// Contributor: Durable's history/instances tables and FuncKeyOps' tables.
var roles = {
  blobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  queueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: privateOnly ? 'Deny' : 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource roleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in items(roles): {
    name: guid(account.id, appPrincipalId, role.value)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.value)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

var serviceLogs = {
  logs: [
    {
      categoryGroup: 'allLogs'
      enabled: true
    }
  ]
  metrics: [
    {
      category: 'Transaction'
      enabled: true
    }
  ]
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
  properties: union(serviceLogs, { workspaceId: workspaceId })
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: queueService
  properties: union(serviceLogs, { workspaceId: workspaceId })
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: tableService
  properties: union(serviceLogs, { workspaceId: workspaceId })
}

@description('Name of the storage account.')
output name string = account.name

@description('Resource id of the storage account (private endpoints attach to it).')
output resourceId string = account.id

@description('Blob endpoint, e.g. https://<name>.blob.core.windows.net/.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Queue endpoint of the host (AzureWebJobsStorage__queueServiceUri).')
output queueEndpoint string = account.properties.primaryEndpoints.queue

@description('Table endpoint FuncKeyOps reads its tables from (Storage__TableEndpoint).')
output tableEndpoint string = account.properties.primaryEndpoints.table

@description('Name of the container holding the deployment package.')
output deploymentContainerName string = deploymentContainer.name
