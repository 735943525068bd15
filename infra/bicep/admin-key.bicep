// Seeds the admin key into the deployment's vault through Azure Resource Manager, so an operator needs neither a
// route into a private vault nor a Key Vault data role: the write is the control-plane secrets/write a Contributor on
// the resource group holds. The value is a secure parameter, never kept in the deployment's history.
//   az deployment group create -g <rg> -f infra/bicep/admin-key.bicep -p keyVaultName=<keyVaultName> adminKey="$KEY"
targetScope = 'resourceGroup'

@description('Name of the vault main.bicep deployed (its keyVaultName output).')
param keyVaultName string

@description('The admin key callers send in x-fko-admin-key: at least 32 characters, e.g. openssl rand -base64 32.')
@secure()
@minLength(32)
param adminKey string

@description('Secret name the app reads the admin key from (Admin:KeySecretName).')
param secretName string = 'fko-admin-key'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource adminKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: secretName
  properties: {
    value: adminKey
    contentType: 'FuncKeyOps admin key'
  }
}
