// Types shared by main.bicep and its modules.

@export()
@description('Resource tags: names to string values.')
type tagsType = {
  *: string
}

@export()
@description('Private DNS zone ids by the private endpoint group they serve.')
type privateDnsZoneIdsType = {
  @description('Zone of the Key Vault endpoint.')
  vault: string

  @description('Zone of the storage blob endpoint.')
  blob: string

  @description('Zone of the storage queue endpoint.')
  queue: string

  @description('Zone of the storage table endpoint.')
  table: string
}
