// Private networking, deployed only when main's enablePrivateNetworking is true: a VNet with one subnet the Function
// App integrates with (outbound) and one for private endpoints, and the private DNS zones that resolve the vault's and
// storage's names to those endpoints from inside the VNet.
import { tagsType, privateDnsZoneIdsType } from 'types.bicep'

@description('Name of the virtual network.')
param name string

@description('Azure region of the virtual network.')
param location string

@description('Address space of the virtual network.')
param addressPrefix string = '10.40.0.0/16'

@description('Subnet the Function App integrates with; Flex Consumption delegates it to Microsoft.App/environments.')
param appSubnetPrefix string = '10.40.1.0/24'

@description('Subnet holding the private endpoints of the vault and the storage account.')
param endpointSubnetPrefix string = '10.40.2.0/24'

@description('Tags applied to the network resources.')
param tags tagsType = {}

// Built from environment() so the zones follow the cloud (public, sovereign) the deployment runs in.
var zoneNames = {
  vault: 'privatelink${replace(environment().suffixes.keyvaultDns, 'vault', 'vaultcore')}'
  blob: 'privatelink.blob.${environment().suffixes.storage}'
  queue: 'privatelink.queue.${environment().suffixes.storage}'
  table: 'privatelink.table.${environment().suffixes.storage}'
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [addressPrefix]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: endpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [
  for zone in items(zoneNames): {
    name: zone.value
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [
  for (zone, i) in items(zoneNames): {
    parent: zones[i]
    name: vnet.name
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

@description('Resource id of the subnet the Function App integrates with.')
output appSubnetId string = vnet.properties.subnets[0].id

@description('Resource id of the subnet holding the private endpoints.')
output endpointSubnetId string = vnet.properties.subnets[1].id

@description('Private DNS zone ids by service: vault, blob, queue, table.')
output zoneIds privateDnsZoneIdsType = {
  blob: resourceId('Microsoft.Network/privateDnsZones', zoneNames.blob)
  queue: resourceId('Microsoft.Network/privateDnsZones', zoneNames.queue)
  table: resourceId('Microsoft.Network/privateDnsZones', zoneNames.table)
  vault: resourceId('Microsoft.Network/privateDnsZones', zoneNames.vault)
}

@description('Name of the virtual network.')
output name string = vnet.name
