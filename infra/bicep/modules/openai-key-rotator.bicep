// Grants the app's identity the custom key-rotator role on one existing Azure OpenAI account, deployed into the
// account's resource group so the assignment's scope is the account itself, never its resource group.

@description('Name of the existing Azure OpenAI (Cognitive Services) account.')
param accountName string

@description('Resource id of the custom role allowing only read, listKeys and regenerateKey on accounts.')
param roleDefinitionId string

@description('Principal id of the app\'s managed identity.')
param appPrincipalId string

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: accountName
}

resource keyRotator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appPrincipalId, roleDefinitionId)
  scope: account
  properties: {
    roleDefinitionId: roleDefinitionId
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}
