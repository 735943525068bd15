// One private endpoint for one sub-resource (vault, blob, queue or table), registered in its private DNS zone.
import { tagsType } from 'types.bicep'

@description('Name of the private endpoint.')
param name string

@description('Azure region of the endpoint (the VNet\'s).')
param location string

@description('Resource id of the vault or storage account the endpoint connects to.')
param targetResourceId string

@description('Sub-resource (group id) of the target: vault, blob, queue or table.')
@allowed(['vault', 'blob', 'queue', 'table'])
param groupId string

@description('Resource id of the subnet the endpoint gets its address in.')
param subnetId string

@description('Resource id of the private DNS zone the endpoint\'s name is registered in.')
param privateDnsZoneId string

@description('Tags applied to the endpoint.')
param tags tagsType = {}

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: targetResourceId
          groupIds: [groupId]
        }
      }
    ]
  }
}

resource dnsGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: {
          privateDnsZoneId: privateDnsZoneId
        }
      }
    ]
  }
}

@description('Resource id of the private endpoint.')
output resourceId string = endpoint.id
