// Production: private endpoints for the vault and storage, more headroom, longer log retention. No Azure OpenAI
// account by default; to rotate keys on some, list them (the deploying identity then needs role-definition write at
// the subscription, see the README), e.g.:
//   param azureOpenAIAccounts = [
//     { name: 'aoai-prod-eastus', resourceGroupName: 'rg-ai-prod' }
//   ]
using 'main.bicep'

param baseName = 'fko-prod'
param tags = {
  environment: 'prod'
  workload: 'funckeyops'
}
param enablePrivateNetworking = true
param instanceMemoryMB = 2048
param maximumInstanceCount = 200
param azureOpenAIAccounts = []
param logRetentionInDays = 90
