// The Key Vault holding provider keys, the admin key and the relay-key pepper. RBAC mode (no access policies),
// soft delete with purge protection, so a deleted or overwritten key can be recovered and never purged early.
import { tagsType } from 'types.bicep'

@description('Name of the vault (3-24 letters, digits and hyphens, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the vault.')
param location string

@description('Principal id of the app\'s managed identity.')
param appPrincipalId string

@description('''True: the app may write secrets (Key Vault Secrets Officer), as rotation, staging a version through the admin
API and creating the relay-key pepper do. False: read only (Key Vault Secrets User) for a relay-only deployment whose
secrets are managed elsewhere; rotations and admin writes then fail.''')
param allowSecretWrites bool = true

@description('True: recover the soft-deleted vault of this name (createMode recover) instead of creating a new one.')
param recover bool = false

@description('Days a deleted secret stays recoverable.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Resource id of the Log Analytics workspace that receives the vault\'s audit logs.')
param workspaceId string

@description('True when the vault is reached through a private endpoint only (public network access off).')
param privateOnly bool = false

@description('Tags applied to the vault.')
param tags tagsType = {}

// Officer on the whole vault, not on single secrets: the secrets the app writes are named at run time (a provider
// key's secretName, the pepper), so no per-secret scope can be granted in advance. The vault is the app's own,
// which keeps the vault scope as narrow as the data. Officer includes reading, so User is not granted beside it.
var secretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
var secretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var appRole = allowSecretWrites ? secretsOfficer : secretsUser

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    createMode: recover ? 'recover' : 'default'
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: privateOnly ? 'Deny' : 'Allow'
    }
  }
}

resource appSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, appRole)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', appRole)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        categoryGroup: 'audit'
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

@description('Name of the vault.')
output name string = vault.name

@description('Resource id of the vault (its private endpoint attaches to it).')
output resourceId string = vault.id

@description('Vault URI the app reads secrets from (KeyVault__Uri).')
output uri string = vault.properties.vaultUri
