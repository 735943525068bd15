// Production: private endpoints for the vault and storage, more headroom, longer log retention. List the Azure OpenAI
// accounts whose keys the azure-openai connector rotates (replace the example).
using 'main.bicep'

param baseName = 'fko-prod'
param tags = {
  environment: 'prod'
  workload: 'funckeyops'
}
param enablePrivateNetworking = true
param instanceMemoryMB = 2048
param maximumInstanceCount = 200
param azureOpenAIAccounts = [
  {
    name: 'aoai-prod-eastus'
    resourceGroupName: 'rg-ai-prod'
  }
]
param logRetentionInDays = 90
