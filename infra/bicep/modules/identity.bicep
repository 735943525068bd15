// The one user-assigned managed identity the Function App runs as. User-assigned (not system-assigned) so its
// role assignments exist before the app starts: the host reaches storage with it on its very first start.
import { tagsType } from 'types.bicep'

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region of the identity.')
param location string

@description('Tags applied to the identity.')
param tags tagsType = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id of the identity (the app\'s identity block and deployment storage authentication use it).')
output resourceId string = identity.id

@description('Client id: what the app settings name so the app picks this identity.')
output clientId string = identity.properties.clientId

@description('Principal (object) id: what role assignments grant to.')
output principalId string = identity.properties.principalId

@description('Name of the identity.')
output name string = identity.name
