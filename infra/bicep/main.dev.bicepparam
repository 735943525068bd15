// Development: public endpoints (still Entra-only), small scale, no Azure OpenAI key rotation.
using 'main.bicep'

param baseName = 'fko-dev'
param tags = {
  environment: 'dev'
  workload: 'funckeyops'
}
param enablePrivateNetworking = false
param instanceMemoryMB = 2048
param maximumInstanceCount = 40
param azureOpenAIAccounts = []
param logRetentionInDays = 30
