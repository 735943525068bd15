// The custom role the azure-openai connector's identity holds on each Azure OpenAI account. A role definition lives
// at subscription scope (its assignableScopes may name resource groups other than the deployment's own only there),
// so this module is deployed at the subscription; the deploying identity therefore needs role-definition write there.
targetScope = 'subscription'

@description('Name (a GUID) of the role definition, stable across re-deployments.')
param name string

@description('Display name of the role, unique in the tenant.')
param roleName string

@description('Resource groups holding the Azure OpenAI accounts: the only scopes the role can be assigned at.')
param accountResourceGroups string[]

resource keyRotator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: name
  properties: {
    roleName: roleName
    description: 'Read an Azure OpenAI account, list its keys and regenerate one; nothing else.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.CognitiveServices/accounts/read'
          'Microsoft.CognitiveServices/accounts/listKeys/action'
          'Microsoft.CognitiveServices/accounts/regenerateKey/action'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: [for group in accountResourceGroups: subscriptionResourceId('Microsoft.Resources/resourceGroups', group)]
  }
}

@description('Resource id of the role definition.')
output resourceId string = keyRotator.id
