// FuncKeyOps on Azure: a Flex Consumption Function App with one user-assigned identity, a Key Vault in RBAC mode,
// one storage account without shared keys, Log Analytics and Application Insights with Entra-only ingestion, and
// optional private networking. Written as plain resources following Azure Verified Modules' conventions (typed,
// described parameters, secure defaults, outputs for every name a workflow needs): registry modules are not used
// so the template builds offline.
targetScope = 'resourceGroup'

import { tagsType } from 'modules/types.bicep'

@description('An existing Azure OpenAI account whose keys the azure-openai connector rotates.')
type openAIAccount = {
  @description('Name of the Cognitive Services (kind OpenAI or AIServices) account.')
  name: string

  @description('Resource group of the account, in this deployment\'s subscription.')
  resourceGroupName: string
}

@description('Short name all resource names start from, e.g. fko-dev (lowercase letters, digits, hyphens).')
@minLength(3)
@maxLength(11)
param baseName string

@description('Azure region of every resource; the resource group\'s by default.')
param location string = resourceGroup().location

@description('Tags applied to every resource.')
param tags tagsType = {}

@description('''True: the vault and the storage account accept traffic only through private endpoints in a new VNet,
and the app reaches them through VNet integration. False: public endpoints, still Entra-only.''')
param enablePrivateNetworking bool = false

@description('Memory of each Function App instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most instances the Function App scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('''Azure OpenAI accounts the azure-openai connector rotates keys on. The app's identity gets a custom role
allowing only read, listKeys and regenerateKey, assigned on each account (not its resource group).''')
param azureOpenAIAccounts openAIAccount[] = []

@description('''True (default): the app's identity may write secrets (Key Vault Secrets Officer), which rotation, the admin
API's staging and the relay-key pepper's creation need. False: read only (Key Vault Secrets User).''')
param allowSecretWrites bool = true

@description('''True: recover the soft-deleted vault of the same name instead of creating one. Needed when a first deployment
failed and its resource group was deleted and created again: the vault's name derives from the group and baseName,
and purge protection keeps the deleted vault (and its name) for its retention days.''')
param recoverKeyVault bool = false

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('NCRONTAB (six fields) of the daily check for keys past their rotation period.')
param rotationSchedule string = '0 0 3 * * *'

@description('NCRONTAB (six fields) of the anomaly sweep over the audit rows.')
param anomalySchedule string = '0 */5 * * * *'

@description('NCRONTAB (six fields) of the daily retention run: old audit tables, findings, rollups, baselines.')
param retentionSchedule string = '0 0 4 * * *'

// Globally unique names derive from the resource group and base name, so a re-run updates the same resources.
var suffix = take(uniqueString(resourceGroup().id, baseName), 6)
var compactName = toLower(replace(baseName, '-', ''))
var names = {
  identity: 'id-${baseName}'
  workspace: 'log-${baseName}-${suffix}'
  appInsights: 'appi-${baseName}-${suffix}'
  storage: take('st${compactName}${suffix}', 24)
  keyVault: 'kv-${baseName}-${suffix}'
  plan: 'asp-${baseName}-${suffix}'
  functionApp: 'func-${baseName}-${suffix}'
  vnet: 'vnet-${baseName}-${suffix}'
}
var deploymentContainerName = 'app-package'

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: names.workspace
    appInsightsName: names.appInsights
    location: location
    retentionInDays: logRetentionInDays
    publisherPrincipalId: identity.outputs.principalId
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    deploymentContainerName: deploymentContainerName
    appPrincipalId: identity.outputs.principalId
    workspaceId: monitoring.outputs.workspaceId
    privateOnly: enablePrivateNetworking
    tags: tags
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    name: names.keyVault
    location: location
    appPrincipalId: identity.outputs.principalId
    allowSecretWrites: allowSecretWrites
    recover: recoverKeyVault
    workspaceId: monitoring.outputs.workspaceId
    privateOnly: enablePrivateNetworking
    tags: tags
  }
}

module network 'modules/network.bicep' = if (enablePrivateNetworking) {
  name: 'network'
  params: {
    name: names.vnet
    location: location
    tags: tags
  }
}

// The vault's endpoint and one per storage service the app uses (the host and Durable use all three).
var privateEndpointGroups = ['vault', 'blob', 'queue', 'table']

module endpoints 'modules/private-endpoint.bicep' = [
  for groupId in privateEndpointGroups: if (enablePrivateNetworking) {
    name: 'pe-${groupId}'
    params: {
      name: 'pe-${baseName}-${groupId}'
      location: location
      targetResourceId: groupId == 'vault' ? keyVault.outputs.resourceId : storage.outputs.resourceId
      groupId: groupId
      subnetId: network!.outputs.endpointSubnetId
      privateDnsZoneId: network!.outputs.zoneIds[groupId]
      tags: tags
    }
  }
]

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    keyVaultUri: keyVault.outputs.uri
    appInsightsName: monitoring.outputs.appInsightsName
    workspaceId: monitoring.outputs.workspaceId
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    rotationSchedule: rotationSchedule
    anomalySchedule: anomalySchedule
    retentionSchedule: retentionSchedule
    appSubnetId: enablePrivateNetworking ? network!.outputs.appSubnetId : ''
    tags: tags
  }
  // The app starts against storage and the vault as soon as it exists: through the private endpoints when enabled.
  dependsOn: [endpoints]
}

// Only the three operations the azure-openai connector performs: read the account, list its keys, regenerate the
// slot not carrying traffic. Defined at subscription scope, assignable only in the accounts' resource groups, and
// assigned per account below. Its name is known before deployment, so the assignments reference it by id.
var openAIKeyRotatorRoleName = guid(subscription().id, resourceGroup().id, baseName, 'openai-key-rotator')

module openAIKeyRotator 'modules/openai-key-rotator-role.bicep' = if (!empty(azureOpenAIAccounts)) {
  name: 'openai-key-rotator-role'
  scope: subscription()
  params: {
    name: openAIKeyRotatorRoleName
    roleName: 'FuncKeyOps Azure OpenAI key rotator (${baseName}-${suffix})'
    accountResourceGroups: union(map(azureOpenAIAccounts, account => account.resourceGroupName), [])
  }
}

module openAIRoleAssignments 'modules/openai-key-rotator.bicep' = [
  for account in azureOpenAIAccounts: {
    name: 'openai-key-rotator-${account.name}'
    scope: resourceGroup(account.resourceGroupName)
    params: {
      accountName: account.name
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', openAIKeyRotatorRoleName)
      appPrincipalId: identity.outputs.principalId
    }
    dependsOn: [openAIKeyRotator]
  }
]

@description('Name of the Function App (the deploy workflow publishes to it).')
output functionAppName string = functionApp.outputs.name

@description('Base URL of the Function App, e.g. https://func-fko-dev-abc123.azurewebsites.net (the smoke test calls /api/health on it).')
output functionAppUrl string = 'https://${functionApp.outputs.defaultHostName}'

@description('Name of the Key Vault (provider keys, admin key, relay-key pepper).')
output keyVaultName string = keyVault.outputs.name

@description('URI of the Key Vault.')
output keyVaultUri string = keyVault.outputs.uri

@description('Name of the storage account.')
output storageAccountName string = storage.outputs.name

@description('Name of the blob container holding the deployment package.')
output deploymentContainerName string = storage.outputs.deploymentContainerName

@description('Name of the Application Insights component.')
output appInsightsName string = monitoring.outputs.appInsightsName

@description('Name of the Log Analytics workspace.')
output logAnalyticsWorkspaceName string = monitoring.outputs.workspaceName

@description('Client id of the app\'s user-assigned managed identity.')
output identityClientId string = identity.outputs.clientId

@description('Principal id of the app\'s user-assigned managed identity (for granting it more, e.g. on another vault).')
output identityPrincipalId string = identity.outputs.principalId
